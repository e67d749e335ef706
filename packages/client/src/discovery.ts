import { GatehouseError } from './errors.ts';
import { sendRequest, type Transport } from './http-transport.ts';

/**
 * The authorization server metadata fields the SDK uses (RFC 8414 §2, OpenID Connect Discovery §3).
 *
 * @example
 * ```ts
 * const metadata = await discoverAuthorizationServer('https://id.example.com', { fetch, timeoutMs: 10_000 });
 * metadata.token_endpoint; // 'https://id.example.com/token'
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
  /** RFC 9207 §3: the server sends `iss` in every authorization response. */
  authorization_response_iss_parameter_supported?: boolean;
  code_challenge_methods_supported?: string[];
  [field: string]: unknown;
}

const endpointFields = [
  'token_endpoint',
  'authorization_endpoint',
  'device_authorization_endpoint',
  'revocation_endpoint',
  'end_session_endpoint',
  'jwks_uri',
] as const;

/**
 * Fetches `/.well-known/openid-configuration` below the issuer and checks that the document names exactly that
 * issuer (RFC 8414 §3.3, OpenID Connect Discovery §4.3): metadata that claims another issuer is an attack or a
 * misconfiguration, and either way must not be used.
 *
 * @example
 * ```ts
 * const metadata = await discoverAuthorizationServer('https://id.example.com', { fetch, timeoutMs: 10_000 });
 * ```
 */
export async function discoverAuthorizationServer(
  issuer: string,
  transport: Transport,
): Promise<AuthorizationServerMetadata> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const response = await sendRequest(transport, url, { headers: { accept: 'application/json' } });
  if (response.status !== 200) {
    throw new GatehouseError(`discovery at ${url} answered HTTP ${response.status}`);
  }
  let metadata: unknown;
  try {
    metadata = await response.json();
  } catch (cause) {
    throw new GatehouseError(`discovery at ${url} did not return JSON`, { cause });
  }
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new GatehouseError(`discovery at ${url} did not return a JSON object`);
  }
  const record = metadata as Record<string, unknown>;
  if (record.issuer !== issuer) {
    throw new GatehouseError(`discovery names issuer ${String(record.issuer)}, expected exactly ${issuer}`, {
      code: 'ERR_ISSUER_MISMATCH',
    });
  }
  if (typeof record.token_endpoint !== 'string') {
    throw new GatehouseError('discovery document has no token_endpoint');
  }
  for (const field of endpointFields) {
    if (record[field] !== undefined && typeof record[field] !== 'string') {
      throw new GatehouseError(`discovery field ${field} is not a string`);
    }
  }
  return record as AuthorizationServerMetadata;
}
