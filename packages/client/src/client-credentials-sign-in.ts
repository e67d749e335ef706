import { type ClientContext, clientEndpoint } from './client-context.ts';
import { GatehouseError } from './errors.ts';
import { clientCredentialsGrantRequest } from './token-request.ts';
import { processTokenResponse } from './token-response.ts';
import { type TokenSet, tokenSetFromResponse } from './token-set.ts';

/**
 * The client credentials grant (RFC 6749 §4.4) for a confidential service; the tokens become the client's
 * session and renew the same way when they expire.
 *
 * @example
 * ```ts
 * const tokens = await runClientCredentialsSignIn(context, { scope: 'recipes:read' });
 * ```
 */
export async function runClientCredentialsSignIn(
  context: ClientContext,
  options: { scope?: string | undefined },
): Promise<TokenSet> {
  if (context.clientSecret === undefined) {
    throw new GatehouseError('client credentials need a clientSecret', { code: 'ERR_CONFIGURATION' });
  }
  const endpoint = await clientEndpoint(context, 'token_endpoint');
  const response = await clientCredentialsGrantRequest(endpoint, {
    scope: options.scope ?? context.scope,
    resource: context.resource,
  });
  const tokens = tokenSetFromResponse(
    await processTokenResponse(response),
    context.clock.now(),
    undefined,
    'client_credentials',
  );
  await context.refresher.commit(tokens);
  return tokens;
}
