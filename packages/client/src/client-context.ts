import type { Clock } from './clock.ts';
import type { AuthorizationServerMetadata } from './discovery.ts';
import { GatehouseError } from './errors.ts';
import type { Transport } from './http-transport.ts';
import type { TokenRefresher } from './token-refresher.ts';
import type { ClientEndpoint } from './token-request.ts';
import type { TokenStore } from './token-store.ts';

/**
 * What the sign-in flows share with the client that runs them (internal).
 *
 * @example
 * ```ts
 * const tokens = await runDeviceSignIn(context, { onUserCode: console.log });
 * ```
 */
export interface ClientContext {
  issuer: string;
  clientId: string;
  clientSecret: string | undefined;
  redirectUri: string | undefined;
  scope: string | undefined;
  resource: readonly string[] | undefined;
  transport: Transport;
  clock: Clock;
  store: TokenStore;
  refresher: TokenRefresher;
  metadata(): Promise<AuthorizationServerMetadata>;
}

/**
 * The endpoint named by `field` in the server metadata, with this client's credentials.
 *
 * @example
 * ```ts
 * const endpoint = await clientEndpoint(context, 'token_endpoint');
 * ```
 */
export async function clientEndpoint(
  context: ClientContext,
  field: 'token_endpoint' | 'device_authorization_endpoint' | 'revocation_endpoint',
): Promise<ClientEndpoint> {
  const url = (await context.metadata())[field];
  if (typeof url !== 'string') {
    throw new GatehouseError(`the authorization server does not advertise ${field}`, {
      code: 'ERR_CONFIGURATION',
    });
  }
  return {
    url,
    clientId: context.clientId,
    clientSecret: context.clientSecret,
    transport: context.transport,
  };
}
