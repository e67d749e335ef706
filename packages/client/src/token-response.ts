import { GatehouseError, InteractionRequiredError, OAuthError } from './errors.ts';

/**
 * A validated token endpoint success response (RFC 6749 §5.1).
 *
 * @example
 * ```ts
 * const tokens: TokenEndpointResponse = await processTokenResponse(response);
 * tokens.access_token;
 * ```
 */
export interface TokenEndpointResponse {
  access_token: string;
  /** Always `Bearer`; other types (DPoP, MAC) are rejected until the SDK supports them. */
  token_type: 'Bearer';
  expires_in?: number;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
}

/**
 * A validated device authorization response (RFC 8628 §3.2).
 *
 * @example
 * ```ts
 * const { user_code, verification_uri, interval } = await processDeviceAuthorizationResponse(response);
 * ```
 */
export interface DeviceAuthorizationResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete?: string;
  expires_in: number;
  /** Seconds between polls; RFC 8628 §3.2 defaults it to 5 when the server omits it. */
  interval: number;
}

const interactionErrors = new Set([
  'login_required',
  'consent_required',
  'interaction_required',
  'account_selection_required',
]);

/**
 * Builds the typed error for OAuth error fields: the OpenID Connect "interaction needed" codes become
 * {@link InteractionRequiredError}, everything else {@link OAuthError}.
 *
 * @example
 * ```ts
 * throw oauthErrorFromFields({ error: 'access_denied', status: undefined });
 * ```
 */
export function oauthErrorFromFields(fields: {
  error: string;
  error_description?: string | undefined;
  status?: number | undefined;
}): OAuthError | InteractionRequiredError {
  if (interactionErrors.has(fields.error)) {
    return new InteractionRequiredError(fields.error, fields.error_description);
  }
  return new OAuthError(fields);
}

async function readJsonObject(response: Response): Promise<Record<string, unknown> | undefined> {
  try {
    const body: unknown = await response.json();
    return typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Turns a non-2xx OAuth response into the error it describes (RFC 6749 §5.2 JSON `error`,
 * `error_description`); a response that is not OAuth error JSON becomes `ERR_INVALID_RESPONSE`.
 *
 * @example
 * ```ts
 * if (!response.ok) throw await oauthErrorFromResponse(response);
 * ```
 */
export async function oauthErrorFromResponse(response: Response): Promise<GatehouseError> {
  const body = await readJsonObject(response);
  if (body && typeof body.error === 'string') {
    return oauthErrorFromFields({
      error: body.error,
      error_description: typeof body.error_description === 'string' ? body.error_description : undefined,
      status: response.status,
    });
  }
  return new GatehouseError(`unexpected HTTP ${response.status} from ${response.url || 'the server'}`);
}

async function successBody(response: Response): Promise<Record<string, unknown>> {
  if (response.status !== 200) throw await oauthErrorFromResponse(response);
  const body = await readJsonObject(response);
  if (!body) throw new GatehouseError('the server answered 200 without a JSON object');
  return body;
}

function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '')
    throw new GatehouseError(`"${field}" must be a non-empty string`);
  return value;
}

function requiredString(body: Record<string, unknown>, field: string): string {
  const value = optionalString(body, field);
  if (value === undefined) throw new GatehouseError(`the response lacks "${field}"`);
  return value;
}

function positiveNumber(body: Record<string, unknown>, field: string): number | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new GatehouseError(`"${field}" must be a positive number`);
  }
  return value;
}

/**
 * Validates a token endpoint response: a 200 with `access_token`, `token_type` Bearer (case-insensitive,
 * RFC 6749 §5.1), a positive `expires_in` when present, string `refresh_token`/`id_token`/`scope` when present.
 * An error status becomes {@link OAuthError} (or {@link InteractionRequiredError}).
 *
 * @example
 * ```ts
 * const tokens = await processTokenResponse(await refreshTokenGrantRequest(endpoint, { refreshToken }));
 * ```
 */
export async function processTokenResponse(response: Response): Promise<TokenEndpointResponse> {
  const body = await successBody(response);
  const accessToken = requiredString(body, 'access_token');
  const tokenType = requiredString(body, 'token_type');
  if (tokenType.toLowerCase() !== 'bearer') {
    throw new GatehouseError(`unsupported token_type ${tokenType}`);
  }
  const result: TokenEndpointResponse = { access_token: accessToken, token_type: 'Bearer' };
  const expiresIn = positiveNumber(body, 'expires_in');
  if (expiresIn !== undefined) result.expires_in = expiresIn;
  const refreshToken = optionalString(body, 'refresh_token');
  if (refreshToken !== undefined) result.refresh_token = refreshToken;
  const idToken = optionalString(body, 'id_token');
  if (idToken !== undefined) result.id_token = idToken;
  if (body.scope !== undefined) {
    if (typeof body.scope !== 'string') throw new GatehouseError('"scope" must be a string');
    result.scope = body.scope;
  }
  return result;
}

/**
 * Validates a device authorization response (RFC 8628 §3.2).
 *
 * @example
 * ```ts
 * const device = await processDeviceAuthorizationResponse(await deviceAuthorizationRequest(endpoint, {}));
 * ```
 */
export async function processDeviceAuthorizationResponse(
  response: Response,
): Promise<DeviceAuthorizationResponse> {
  const body = await successBody(response);
  const result: DeviceAuthorizationResponse = {
    device_code: requiredString(body, 'device_code'),
    user_code: requiredString(body, 'user_code'),
    verification_uri: requiredString(body, 'verification_uri'),
    expires_in: positiveNumber(body, 'expires_in') ?? 0,
    interval: positiveNumber(body, 'interval') ?? 5,
  };
  if (result.expires_in === 0) throw new GatehouseError('the response lacks "expires_in"');
  const complete = optionalString(body, 'verification_uri_complete');
  if (complete !== undefined) result.verification_uri_complete = complete;
  return result;
}

/**
 * Validates a revocation response: RFC 7009 §2.2 answers 200 whether or not the token was valid, so anything
 * else is an error.
 *
 * @example
 * ```ts
 * await processRevocationResponse(await revocationRequest(endpoint, { token }));
 * ```
 */
export async function processRevocationResponse(response: Response): Promise<void> {
  if (response.status !== 200) throw await oauthErrorFromResponse(response);
  await response.body?.cancel();
}
