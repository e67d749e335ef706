import { startGatehouseProcess as startProcess, TEST_SECRET } from '@gatehouse/testkit/process';
import type { NodeChild } from './child.ts';

/** The secret of the bench's Gatehouse processes: the bare provider and the sign-in driver read its keys with it. */
export const BENCH_SECRET = TEST_SECRET;

export interface GatehouseProcess extends NodeChild {
  readonly url: string;
  readonly issuer: string;
}

/**
 * `node packages/server/src/main.ts` on a private Redis, as operators run it: the testkit's process
 * starter with the bench's environment and node flags, stopped like every other bench child
 * (SIGTERM, then SIGKILL after a grace period).
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
    ...(options.env ? { env: options.env } : {}),
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
