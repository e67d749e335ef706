import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { type RedisProcess, startRedis } from './redis-process.ts';

const run = promisify(execFile);

export interface RedisClusterProcess {
  readonly nodes: RedisProcess[];
  /** `host:port` seeds, the `REDIS_CLUSTER_NODES` format. */
  readonly seeds: string;
  cleanup(): Promise<void>;
}

/** Starts a real Redis Cluster of `masters` nodes (no replicas) with `redis-cli --cluster create`. */
export async function startRedisCluster(masters = 3): Promise<RedisClusterProcess> {
  const nodes: RedisProcess[] = [];
  for (let i = 0; i < masters; i++) {
    nodes.push(
      await startRedis({
        args: [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '2000',
        ],
      }),
    );
  }
  const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
  await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
  // The cluster answers CLUSTER INFO with cluster_state:ok once every slot is served.
  const deadline = Date.now() + 20_000;
  for (;;) {
    const states = await Promise.all(
      nodes.map(async (node) => {
        const { stdout } = await run('redis-cli', ['-p', String(node.port), 'cluster', 'info']);
        return stdout.includes('cluster_state:ok');
      }),
    );
    if (states.every(Boolean)) break;
    if (Date.now() > deadline) throw new Error('Redis Cluster did not reach cluster_state:ok');
    await sleep(100);
  }
  return {
    nodes,
    seeds: addresses.join(','),
    cleanup: async () => {
      await Promise.all(nodes.map((node) => node.cleanup()));
    },
  };
}
