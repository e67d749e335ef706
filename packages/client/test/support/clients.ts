import { createGatehouseClient, type GatehouseClient, type GatehouseClientOptions } from '../../src/index.ts';
import type { AuthServer } from './auth-server.ts';

/**
 * A public SPA-style client of the test server, signed in through the real code flow (PKCE, state, iss)
 * with the test user approving. `crossTab` and `autoRefresh` are off so timers never race an assertion.
 */
export async function signedInSpaClient(
  server: AuthServer,
  options: Partial<GatehouseClientOptions> = {},
): Promise<GatehouseClient> {
  const auth = spaClient(server, options);
  let authorizationUrl = '';
  await auth.signInRedirect({
    navigate: (url) => {
      authorizationUrl = url;
    },
  });
  await auth.handleRedirectCallback(await server.approve(authorizationUrl));
  return auth;
}

export function spaClient(
  server: AuthServer,
  options: Partial<GatehouseClientOptions> = {},
): GatehouseClient {
  return createGatehouseClient({
    issuer: server.issuer,
    clientId: server.clients.spa.clientId,
    redirectUri: server.clients.spa.redirectUri,
    scope: 'openid offline_access recipes:read',
    resource: server.apiResource,
    autoRefresh: false,
    crossTab: false,
    ...options,
  });
}
