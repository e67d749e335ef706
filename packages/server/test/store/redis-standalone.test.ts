import { startRedis } from '@gatehouse/testkit';
import { describeAdapterContract } from './adapter-contract.ts';
import { redisContractTarget } from './redis-target.ts';

describeAdapterContract('standalone Redis', async () => {
  const redis = await startRedis();
  return redisContractTarget({ kind: 'standalone', url: redis.url }, () => redis.cleanup());
});
