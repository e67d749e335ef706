import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../packages/testkit/src/index.ts';
import { type NodeChild, REPO_DIR, spawnNode, waitForHttp } from './child.ts';
import { BENCH_CLIENTS } from './clients.ts';

/** Instances that share a Redis must share the secret (it encrypts the signing keys). */
export const BENCH_SECRET = 'bench-secret-0123456789abcdef0123456789';

export interface GatehouseProcess extends NodeChild {
  readonly url: string;
  readonly issuer: string;
}

/** `node packages/server/src/main.ts`: the server as operators run it, on a private Redis. */
export async function startGatehouseProcess(options: {
  redisUrl: string;
  env?: Record<string, string>;
  flags?: readonly string[];
}): Promise<GatehouseProcess> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-'));
  const clientsFile = join(dir, 'clients.json');
  await writeFile(clientsFile, JSON.stringify(BENCH_CLIENTS));
  const issuer = `http://localhost:${port}`;
  const child = spawnNode(
    join(REPO_DIR, 'packages/server/src/main.ts'),
    [],
    {
      NODE_ENV: 'test',
      PORT: String(port),
      ISSUER: issuer,
      REDIS_URL: options.redisUrl,
      GATEHOUSE_SECRET: BENCH_SECRET,
      GATEHOUSE_CLIENTS_FILE: clientsFile,
      ...options.env,
    },
    options.flags,
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/.well-known/openid-configuration`, child);
  } catch (err) {
    await child.stop();
    throw err;
  }
  return {
    ...child,
    url,
    issuer,
    async stop() {
      await child.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
