import { randomBytes } from 'node:crypto';
import type { ClientMetadata } from 'oidc-provider';

/** The demo API's public URL, where the demo page signs in with the SDK. */
export const DEMO_APP_URL = 'http://localhost:4001';

/**
 * Clients seeded on the in-process store so `pnpm start` has something to sign in with:
 * the demo page (public, PKCE, DPoP-bound), a backend service (client credentials) and a CLI
 * (device code). The service's secret is generated per start and printed once.
 */
export function demoClients(appUrl = DEMO_APP_URL): { clients: ClientMetadata[]; serviceSecret: string } {
  const serviceSecret = randomBytes(24).toString('base64url');
  return {
    serviceSecret,
    clients: [
      {
        client_id: 'demo-spa',
        client_name: 'Gatehouse recipes demo',
        application_type: 'web',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [`${appUrl}/`, `${appUrl}/callback`],
        post_logout_redirect_uris: [`${appUrl}/`],
        scope: 'openid profile email offline_access recipes:read recipes:write',
        // RFC 9449 §5.2: every token request needs a proof (the demo page's SDK runs with
        // `dpop: true`), so a token copied out of the page is useless without its key.
        dpop_bound_access_tokens: true,
        // The SDK checks ES256 ID tokens: about an eighth of an RS256 signature's CPU per sign-in and refresh.
        id_token_signed_response_alg: 'ES256',
      },
      {
        client_id: 'demo-service',
        client_name: 'Demo backend service',
        client_secret: serviceSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: 'recipes:read recipes:write',
      },
      {
        client_id: 'demo-cli',
        client_name: 'Demo command-line tool',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        response_types: [],
        redirect_uris: [],
        scope: 'openid profile email offline_access recipes:read recipes:write',
      },
    ],
  };
}
