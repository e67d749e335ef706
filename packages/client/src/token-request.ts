import { sendRequest, type Transport } from './http-transport.ts';

/**
 * Who is asking and where to: the client's identity plus the endpoint. A `clientSecret` makes it a confidential
 * client authenticating with `client_secret_basic`; without one it is a public client that sends `client_id`.
 *
 * @example
 * ```ts
 * const endpoint: ClientEndpoint = { url: metadata.token_endpoint, clientId: 'demo-cli', transport: { fetch, timeoutMs: 10_000 } };
 * ```
 */
export interface ClientEndpoint {
  url: string;
  clientId: string;
  clientSecret?: string | undefined;
  transport: Transport;
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and base64-encoded. */
function basicCredentials(clientId: string, clientSecret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${btoa(`${encode(clientId)}:${encode(clientSecret)}`)}`;
}

/**
 * POSTs a form to an OAuth endpoint with client authentication, returning the raw Response. Validation is the
 * caller's job (see `token-response.ts`), so this never throws for an HTTP error status; it throws only
 * `NetworkError`/`TimeoutError` when no response arrived.
 *
 * @example
 * ```ts
 * const response = await postForm(endpoint, new URLSearchParams({ grant_type: 'client_credentials' }));
 * ```
 */
export function postForm(endpoint: ClientEndpoint, body: URLSearchParams): Promise<Response> {
  const headers: Record<string, string> = {
    accept: 'application/json',
    'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
  };
  if (endpoint.clientSecret !== undefined) {
    headers.authorization = basicCredentials(endpoint.clientId, endpoint.clientSecret);
  } else {
    body.set('client_id', endpoint.clientId);
  }
  return sendRequest(endpoint.transport, endpoint.url, { method: 'POST', headers, body });
}

function appendResource(body: URLSearchParams, resource: readonly string[] | undefined): void {
  // RFC 8707 §2: `resource` may repeat, one absolute URI per target API.
  for (const uri of resource ?? []) body.append('resource', uri);
}

/**
 * Sends the authorization code grant (RFC 6749 §4.1.3) with its PKCE verifier (RFC 7636 §4.5).
 *
 * @example
 * ```ts
 * const response = await authorizationCodeGrantRequest(endpoint, { code, codeVerifier, redirectUri });
 * const tokens = await processTokenResponse(response);
 * ```
 */
export function authorizationCodeGrantRequest(
  endpoint: ClientEndpoint,
  grant: {
    code: string;
    codeVerifier: string;
    redirectUri: string;
    resource?: readonly string[] | undefined;
  },
): Promise<Response> {
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code: grant.code,
    code_verifier: grant.codeVerifier,
    redirect_uri: grant.redirectUri,
  });
  appendResource(body, grant.resource);
  return postForm(endpoint, body);
}

/**
 * Sends the refresh token grant (RFC 6749 §6). Callers must not resend it blindly after a network failure:
 * the server may have rotated the token already, and a replay revokes the whole grant.
 *
 * @example
 * ```ts
 * const response = await refreshTokenGrantRequest(endpoint, { refreshToken });
 * ```
 */
export function refreshTokenGrantRequest(
  endpoint: ClientEndpoint,
  grant: { refreshToken: string; resource?: readonly string[] | undefined },
): Promise<Response> {
  const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: grant.refreshToken });
  appendResource(body, grant.resource);
  return postForm(endpoint, body);
}

/**
 * Sends the client credentials grant (RFC 6749 §4.4); needs a confidential client.
 *
 * @example
 * ```ts
 * const response = await clientCredentialsGrantRequest(endpoint, { scope: 'recipes:read' });
 * ```
 */
export function clientCredentialsGrantRequest(
  endpoint: ClientEndpoint,
  grant: { scope?: string | undefined; resource?: readonly string[] | undefined },
): Promise<Response> {
  const body = new URLSearchParams({ grant_type: 'client_credentials' });
  if (grant.scope) body.set('scope', grant.scope);
  appendResource(body, grant.resource);
  return postForm(endpoint, body);
}

/**
 * Starts a device authorization (RFC 8628 §3.1).
 *
 * @example
 * ```ts
 * const response = await deviceAuthorizationRequest(deviceEndpoint, { scope: 'openid offline_access' });
 * const { device_code, user_code } = await processDeviceAuthorizationResponse(response);
 * ```
 */
export function deviceAuthorizationRequest(
  endpoint: ClientEndpoint,
  request: { scope?: string | undefined; resource?: readonly string[] | undefined },
): Promise<Response> {
  const body = new URLSearchParams();
  if (request.scope) body.set('scope', request.scope);
  appendResource(body, request.resource);
  return postForm(endpoint, body);
}

/**
 * Polls the token endpoint with a device code (RFC 8628 §3.4).
 *
 * @example
 * ```ts
 * const response = await deviceCodeGrantRequest(endpoint, { deviceCode });
 * ```
 */
export function deviceCodeGrantRequest(
  endpoint: ClientEndpoint,
  grant: { deviceCode: string },
): Promise<Response> {
  return postForm(
    endpoint,
    new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: grant.deviceCode,
    }),
  );
}

/**
 * Revokes a token (RFC 7009 §2.1).
 *
 * @example
 * ```ts
 * await processRevocationResponse(await revocationRequest(revocationEndpoint, { token: refreshToken, hint: 'refresh_token' }));
 * ```
 */
export function revocationRequest(
  endpoint: ClientEndpoint,
  request: { token: string; hint?: 'refresh_token' | 'access_token' },
): Promise<Response> {
  const body = new URLSearchParams({ token: request.token });
  if (request.hint) body.set('token_type_hint', request.hint);
  return postForm(endpoint, body);
}
