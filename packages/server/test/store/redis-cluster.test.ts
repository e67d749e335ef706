import { startRedisCluster } from '@gatehouse/testkit';
import { describeAdapterContract } from './adapter-contract.ts';
import { redisContractTarget } from './redis-target.ts';

describeAdapterContract('Redis Cluster (3 masters)', async () => {
  const cluster = await startRedisCluster(3);
  const nodes = cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
  return redisContractTarget({ kind: 'cluster', nodes }, () => cluster.cleanup());
});
