export { freePort } from './free-port.ts';
export { type RedisClusterProcess, startRedisCluster } from './redis-cluster.ts';
export { type RedisProcess, type StartRedisOptions, startRedis } from './redis-process.ts';
