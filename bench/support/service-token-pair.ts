import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startRedis } from '@gatehouse/testkit';
import { TEST_CLIENTS } from '@gatehouse/testkit/clients';
import { BENCH_DIR, REPO_DIR } from './child.ts';
import { serviceTokenRequest } from './clients.ts';
import { BENCH_SECRET, startGatehouseProcess } from './gatehouse-process.ts';

/**
 * `count` client-credentials token requests (scenario 1's) to `url`, `inFlight` at a time; throws on any
 * answer but 200. A kept-alive socket the server closed as it was reused (a slow, instrumented server)
 * is sent to once more.
 *
 * @example
 * ```ts
 * await loadServiceTokens('http://127.0.0.1:4000', 3000);
 * ```
 */
export async function loadServiceTokens(url: string, count: number, inFlight = 16): Promise<void> {
  let sent = 0;
  const worker = async () => {
    while (sent < count) {
      sent++;
      const response = await fetch(`${url}/token`, serviceTokenRequest).catch(() =>
        fetch(`${url}/token`, serviceTokenRequest),
      );
      const body = await response.text();
      if (response.status !== 200) throw new Error(`${url}/token answered ${response.status} ${body}`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

/** Starts a server script with this environment and measures it; see {@link measureGatehouseAndBare}. */
export type MeasureServer<T> = (name: string, script: string, env: Record<string, string>) => Promise<T>;

/**
 * Gatehouse and bare oidc-provider measured one after the other on one private Redis, with the same
 * signing key and the same service client: what the bench's diagnostic tools (instructions, allocations)
 * compare. `gatehouseMain` replaces Gatehouse's main.ts (another checkout's, to compare commits).
 *
 * @example
 * ```ts
 * const { gatehouse, bare } = await measureGatehouseAndBare(out, measure);
 * ```
 */
export async function measureGatehouseAndBare<T>(
  out: string,
  measure: MeasureServer<T>,
  gatehouseMain = join(REPO_DIR, 'packages/server/src/main.ts'),
): Promise<{ gatehouse: T; bare: T }> {
  const redis = await startRedis();
  try {
    // Gatehouse first, as it is, once: it creates the signing keys the bare provider reads.
    const keysMaker = await startGatehouseProcess({ redisUrl: redis.url });
    await keysMaker.stop();
    const clientsFile = join(await mkdtemp(join(out, 'clients-')), 'clients.json');
    await writeFile(clientsFile, JSON.stringify(TEST_CLIENTS));
    const shared = { REDIS_URL: redis.url, GATEHOUSE_SECRET: BENCH_SECRET, ISSUER: 'http://localhost:4000' };
    const gatehouse = await measure('gatehouse', gatehouseMain, {
      ...shared,
      GATEHOUSE_CLIENTS_FILE: clientsFile,
    });
    const bare = await measure('bare-oidc-provider', join(BENCH_DIR, 'servers/bare-provider.ts'), shared);
    return { gatehouse, bare };
  } finally {
    await redis.cleanup();
  }
}
