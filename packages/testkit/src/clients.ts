import type { ClientMetadata } from 'oidc-provider';

/** The demo API's URL: the `resource` (RFC 8707) and `aud` of the tokens the test clients ask for. */
export const API = 'http://localhost:4001';
/** The one redirect URI every test client with a code flow registers. */
export const REDIRECT_URI = 'http://localhost:5173/callback';
/** Client secret of the confidential `service` client (client credentials). */
export const SERVICE_SECRET = 'service-secret-0123456789abcdef0123456789';
/** Client secret of the confidential `web` client; `other-web` has this with `-other` appended. */
export const WEB_SECRET = 'web-secret-0123456789abcdef0123456789abcd';

/**
 * The OAuth clients every test server knows (RFC 7591 metadata, also the clients-file format):
 * the public `spa` and `cli` (device flow), the confidential `web`, `other-web` and `service`.
 */
export const TEST_CLIENTS: ClientMetadata[] = [
  {
    client_id: 'spa',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [REDIRECT_URI],
    application_type: 'web',
  },
  {
    client_id: 'web',
    client_secret: WEB_SECRET,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [REDIRECT_URI],
  },
  {
    client_id: 'other-web',
    client_secret: `${WEB_SECRET}-other`,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [REDIRECT_URI],
  },
  {
    client_id: 'service',
    client_secret: SERVICE_SECRET,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    scope: 'recipes:read recipes:write',
  },
  {
    client_id: 'cli',
    token_endpoint_auth_method: 'none',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    redirect_uris: [],
    response_types: [],
    application_type: 'native',
  },
];

/** `Authorization: Basic` as RFC 6749 §2.3.1 spells it (form-encoded id and secret), as a header record. */
export function basic(clientId: string, secret: string): Record<string, string> {
  return {
    authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
  };
}
