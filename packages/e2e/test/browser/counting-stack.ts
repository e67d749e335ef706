import type { DemoTokenStorage } from '@gatehouse/demo-api';
import { freePort } from '@gatehouse/testkit';
// biome-ignore lint/style/noRestrictedImports: the test runs the repository's own dev stack, the one `pnpm start` runs; it is no package's API.
import { type DemoStack, startDemoStack } from '../../../../scripts/demo-stack.ts';

/** A demo stack (as `pnpm start` runs it, on free ports) that counts refresh requests at the server. */
export interface CountingStack extends DemoStack {
  /** Every refresh-token grant the server answered, in order. */
  readonly refreshes: readonly { readonly ok: boolean; readonly error?: string }[];
}

/**
 * Starts the server and the demo API in this process with `ACCESS_TOKEN_TTL=accessTokenTTL`,
 * recording each refresh-token request at the token endpoint (oidc-provider's grant events).
 *
 * @example
 * const stack = await startCountingStack({ accessTokenTTL: 5 });
 * expect(stack.refreshes.length).toBe(0);
 */
export async function startCountingStack(options: {
  accessTokenTTL: number;
  tokenStorage?: DemoTokenStorage;
}): Promise<CountingStack> {
  const refreshes: { ok: boolean; error?: string }[] = [];
  const isRefresh = (params: unknown) =>
    (params as { grant_type?: unknown } | undefined)?.grant_type === 'refresh_token';
  const stack = await startDemoStack({
    serverPort: await freePort(),
    apiPort: await freePort(),
    tokenStorage: options.tokenStorage ?? 'hybrid',
    env: {
      NODE_ENV: 'test',
      GATEHOUSE_SECRET: 'browser-test-secret-0123456789abcdef0123',
      ACCESS_TOKEN_TTL: String(options.accessTokenTTL),
    },
    onError: (err) => console.error('demo stack error:', err),
    gatehouse: {
      onProviderCreated(provider) {
        provider.on('grant.success', (ctx) => {
          if (isRefresh(ctx.oidc.params)) refreshes.push({ ok: true });
        });
        provider.on('grant.error', (ctx, error) => {
          const code = (error as { error?: unknown }).error;
          if (isRefresh(ctx.oidc.params))
            refreshes.push(code === 'use_dpop_nonce' ? { ok: false, error: code } : { ok: false });
        });
      },
    },
  });
  return Object.assign(stack, { refreshes });
}
