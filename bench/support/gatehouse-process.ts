import { startGatehouseProcess as startProcess, TEST_SECRET } from '@gatehouse/testkit/process';
import type { NodeChild } from './child.ts';

/** The secret of the bench's Gatehouse processes: the bare provider and the sign-in driver read its keys with it. */
export const BENCH_SECRET = TEST_SECRET;

export interface GatehouseProcess extends NodeChild {
  readonly url: string;
  readonly issuer: string;
}

/**
 * The address the bench's drivers report for their `i`th person (`X-Forwarded-For`, as a proxy
 * would): the bench plays many people, and the server limits what one address may start (300
 * authorization requests a minute), so thousands of sign-ins a minute come from thousands of
 * addresses, as they would in production. 10.0.0.0/8, one address each.
 */
export function benchClientAddress(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

/**
 * `node packages/server/src/main.ts` on a private Redis, as operators run it: the testkit's process
 * starter with the bench's environment and node flags, stopped like every other bench child
 * (SIGTERM, then SIGKILL after a grace period). Behind one pretend proxy (`TRUST_PROXY=1`): the
 * drivers' sign-ins say where each person comes from ({@link benchClientAddress}); a request
 * without `X-Forwarded-For` is counted for its socket's address as before.
 */
export async function startGatehouseProcess(options: {
  redisUrl: string;
  env?: Record<string, string>;
  flags?: readonly string[];
}): Promise<GatehouseProcess> {
  const gatehouse = await startProcess({
    redisUrl: options.redisUrl,
    inheritEnv: true,
    nodeFlags: ['--no-warnings', ...(options.flags ?? [])],
    env: { TRUST_PROXY: '1', ...options.env },
  });
  return {
    child: gatehouse.child,
    url: gatehouse.url,
    issuer: gatehouse.issuer,
    output: gatehouse.output,
    async stop() {
      const timer = setTimeout(() => gatehouse.child.kill('SIGKILL'), 5_000);
      await gatehouse.stop('SIGTERM');
      clearTimeout(timer);
      await gatehouse.cleanup();
    },
  };
}
