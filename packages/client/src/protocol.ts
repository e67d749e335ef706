/**
 * The OAuth wire protocol as the SDK speaks it: discovery, form posts to the server's endpoints, and the
 * validation of what comes back. Written for size (it ships to browsers), so the helpers are generic.
 */
import {
  GatehouseError,
  type GatehouseErrorBaseCode,
  InteractionRequiredError,
  NetworkError,
  OAuthError,
  TimeoutError,
} from './errors.ts';
import type { TokenSet } from './token-set.ts';

/** A parsed JSON object. */
export type Json = Record<string, unknown>;

/**
 * The authorization server metadata the SDK uses (RFC 8414 / OpenID Connect Discovery).
 *
 * @example
 * ```ts
 * const metadata: AuthorizationServerMetadata = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
 * metadata.token_endpoint;
 * ```
 */
export interface AuthorizationServerMetadata {
  issuer: string;
  token_endpoint: string;
  authorization_endpoint?: string;
  device_authorization_endpoint?: string;
  revocation_endpoint?: string;
  end_session_endpoint?: string;
  jwks_uri?: string;
  authorization_response_iss_parameter_supported?: boolean;
  code_challenge_methods_supported?: string[];
  [field: string]: unknown;
}

/**
 * A validated token endpoint success response (RFC 6749 §5.1).
 *
 * @example
 * ```ts
 * const response: TokenEndpointResponse = { access_token: 'eyJ…', token_type: 'Bearer', expires_in: 300 };
 * ```
 */
export interface TokenEndpointResponse {
  access_token: string;
  /** `Bearer`, or `DPoP` for a client with `dpop: true` (which accepts nothing else); others are rejected. */
  token_type: 'Bearer' | 'DPoP';
  expires_in?: number;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
}

/** What the flows need to reach the server as this client. */
export interface Endpoints {
  clientId: string;
  /** Present for confidential clients: sent as `client_secret_basic`. */
  clientSecret?: string | undefined;
  fetch: typeof fetch;
  timeoutMs: number;
  /** RFC 9449: `fetch` adds DPoP proofs, and token responses must be `token_type` DPoP. */
  dpop?: boolean | undefined;
  metadata(): Promise<AuthorizationServerMetadata>;
}

/** Throws a {@link GatehouseError}; usable as an expression (`value ?? fail('…')`). */
export const fail = (message: string, code?: GatehouseErrorBaseCode): never => {
  throw new GatehouseError(message, code && { code });
};

/** A non-empty string, else `undefined`. */
export const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value ? value : undefined;

/** `JSON.parse` that yields `{}` for anything but a JSON object. */
export const parseObject = (raw: unknown): Json => {
  try {
    const value: unknown = JSON.parse(raw as string);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
  } catch {
    return {};
  }
};

/** Copies `value` without its `undefined` properties (exact optional types, clean JSON and logs). */
export const defined = <T extends object>(value: { [K in keyof T]: T[K] | undefined }): T =>
  Object.fromEntries(Object.entries(value).filter((entry) => entry[1] !== undefined)) as T;

/** Sets every non-empty parameter, then one `resource` per RFC 8707 target. */
export function fill(
  target: URLSearchParams,
  params: Record<string, string | undefined>,
  resource?: readonly string[],
): URLSearchParams {
  for (const [key, value] of Object.entries(params)) if (value) target.set(key, value);
  for (const uri of resource ?? []) target.append('resource', uri);
  return target;
}

/** One request to the authorization server: bounded by a timeout, no redirects, typed failures. */
export async function send(
  endpoints: Pick<Endpoints, 'fetch' | 'timeoutMs'>,
  url: string,
  init?: RequestInit,
): Promise<Response> {
  const signal = AbortSignal.timeout(endpoints.timeoutMs);
  try {
    return await endpoints.fetch(url, { ...init, signal, redirect: 'manual' });
  } catch (cause) {
    // A GatehouseError from the client's own fetch (ERR_DPOP_UNSUPPORTED) says more than "unreachable".
    throw cause instanceof GatehouseError
      ? cause
      : signal.aborted
        ? new TimeoutError(`${url} timed out`, { cause })
        : new NetworkError(`${url} unreachable`, { cause });
  }
}

/**
 * The typed error for OAuth error fields: the OpenID Connect "interaction needed" codes become
 * {@link InteractionRequiredError}, everything else {@link OAuthError}.
 */
export const oauthError = (error: string, description?: string, status?: number): GatehouseError =>
  /^(login|consent|interaction|account_selection)_required$/.test(error)
    ? new InteractionRequiredError(error, description)
    : new OAuthError({ error, error_description: description, status });

/**
 * Reads a response the server should answer with 200: anything else becomes the OAuth error its JSON
 * describes (RFC 6749 §5.2), or `ERR_INVALID_RESPONSE` when it is not OAuth error JSON. Resolves with the JSON
 * object body, `{}` when there is none.
 */
export async function okBody(response: Response): Promise<Json> {
  const body = parseObject(await response.text().catch(() => ''));
  if (response.status === 200) return body;
  throw typeof body.error === 'string'
    ? oauthError(body.error, str(body.error_description), response.status)
    : new GatehouseError(`HTTP ${response.status} from ${response.url}`);
}

/**
 * Checks fields of a response object: `s` a non-empty string, `S` any string, `n` a positive finite number; a
 * `?` suffix makes the field optional. Returns the object typed as `T`.
 */
export function check<T>(body: Json, spec: Record<string, string>): T {
  for (const [field, type] of Object.entries(spec)) {
    const value = body[field];
    if (
      value === undefined
        ? !type.endsWith('?')
        : type[0] === 'n'
          ? !(Number.isFinite(value) && (value as number) > 0)
          : typeof value !== 'string' || (type[0] === 's' && !value)
    ) {
      fail(`"${field}" is missing or malformed`);
    }
  }
  return body as T;
}

/**
 * Discovery: the metadata document must name this issuer (RFC 8414 §3.3), up to a trailing slash, which the
 * Gatehouse server also drops from its `ISSUER`. Later checks (RFC 9207 `iss`, ID token `iss`) compare with the
 * document's `issuer` exactly.
 */
export async function discover(
  issuer: string,
  endpoints: Pick<Endpoints, 'fetch' | 'timeoutMs'>,
): Promise<AuthorizationServerMetadata> {
  const base = issuer.replace(/\/$/, '');
  const metadata = await okBody(await send(endpoints, `${base}/.well-known/openid-configuration`));
  if (String(metadata.issuer).replace(/\/$/, '') !== base) {
    fail(`discovery is from ${metadata.issuer}, not ${issuer}`, 'ERR_ISSUER_MISMATCH');
  }
  return check(metadata, { token_endpoint: 's', end_session_endpoint: 's?' });
}

/** The URL of one of the server's endpoints, from discovery (an empty one counts as none). */
export const endpointUrl = async (endpoints: Endpoints, name: string): Promise<string> =>
  str((await endpoints.metadata())[name]) ?? fail(`the server has no ${name}`, 'ERR_CONFIGURATION');

/** Form POST to one of the server's endpoints, authenticated as this client (RFC 6749 §2.3). */
export async function post(
  endpoints: Endpoints,
  endpoint: 'token_endpoint' | 'device_authorization_endpoint' | 'revocation_endpoint',
  params: Record<string, string | undefined>,
  resource?: readonly string[],
): Promise<Json> {
  const url = await endpointUrl(endpoints, endpoint);
  const { clientId, clientSecret } = endpoints;
  const headers: Record<string, string> = {};
  if (clientSecret === undefined) params = { ...params, client_id: clientId };
  else {
    // RFC 6749 §2.3.1: both form-urlencoded (percent-encoding is a valid form encoding, %20 included).
    headers.authorization = `Basic ${btoa(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`)}`;
  }
  const body = fill(new URLSearchParams(), params, resource);
  return okBody(await send(endpoints, url, { method: 'POST', headers, body }));
}

/**
 * A token endpoint request, validated as RFC 6749 §5.1 asks: `access_token`, `token_type` Bearer
 * (case-insensitive; DPoP, and only DPoP, for a DPoP client), a positive `expires_in`, strings for
 * `refresh_token`, `id_token` and `scope`.
 */
export async function grant(
  endpoints: Endpoints,
  params: Record<string, string | undefined>,
  resource?: readonly string[],
): Promise<TokenEndpointResponse> {
  const checked = check<TokenEndpointResponse>(await post(endpoints, 'token_endpoint', params, resource), {
    access_token: 's',
    token_type: 's',
    expires_in: 'n?',
    refresh_token: 's?',
    id_token: 's?',
    scope: 'S?',
  });
  // RFC 9449 §5: a DPoP client refuses a Bearer token, which anyone holding it could use (a downgrade).
  const type = endpoints.dpop ? 'DPoP' : 'Bearer';
  if (checked.token_type.toLowerCase() !== type.toLowerCase())
    fail(`unsupported token_type ${checked.token_type}`);
  return { ...checked, token_type: type };
}

/** The session a token response starts or renews; what the response omits is kept from `previous`. */
export function tokenSet(
  response: TokenEndpointResponse,
  now: number,
  previous?: { [K in keyof TokenSet]?: TokenSet[K] | undefined },
  renewal?: TokenSet['renewal'],
): TokenSet {
  const lifetime = response.expires_in;
  const refreshToken = response.refresh_token ?? previous?.refreshToken;
  return defined<TokenSet>({
    accessToken: response.access_token,
    expiresAt: lifetime && now + lifetime * 1000,
    issuedAt: lifetime && now,
    scope: response.scope ?? previous?.scope,
    refreshToken,
    idToken: response.id_token ?? previous?.idToken,
    renewal: renewal ?? previous?.renewal ?? (refreshToken ? 'refresh_token' : undefined),
    resources: previous?.resources,
  });
}
