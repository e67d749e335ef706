import { API_AUDIENCE } from './audience.ts';
/** The OAuth clients every bench server knows (RFC 7591 metadata, the clients-file format). */
export const REDIRECT_URI = 'http://localhost:5173/callback';
export const SERVICE_SECRET = 'bench-service-secret-0123456789abcdef0123';
export const WEB_SECRET = 'bench-web-secret-0123456789abcdef012345678';

export const BENCH_CLIENTS = [
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
] as const;

/** `Authorization: Basic` as RFC 6749 §2.3.1 spells it (form-encoded id and secret). */
export function basicAuth(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/**
 * The client-credentials token request every scenario sends as the `service` client: a JWT access token for
 * the demo API with `recipes:read`. Usable as `fetch` init and as an autocannon request.
 */
export const serviceTokenRequest = {
  method: 'POST' as const,
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: basicAuth('service', SERVICE_SECRET),
  },
  body: new URLSearchParams({
    grant_type: 'client_credentials',
    scope: 'recipes:read',
    resource: API_AUDIENCE,
  }).toString(),
};
