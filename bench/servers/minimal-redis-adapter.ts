import type { Redis } from 'ioredis';
import type { Adapter, AdapterPayload } from 'oidc-provider';

/**
 * The smallest Redis adapter oidc-provider runs on (after its own example): one JSON string per
 * record with its TTL, a list per grant for revocation, and lookups by uid and user code. No Lua,
 * no consume race handling, no Cluster hash tags: the baseline a bare oidc-provider deployment has.
 */
export function minimalRedisAdapter(redis: Redis) {
  return class MinimalRedisAdapter implements Adapter {
    readonly name: string;
    constructor(name: string) {
      this.name = name;
    }
    key(id: string): string {
      return `bare:${this.name}:${id}`;
    }
    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const key = this.key(id);
      const multi = redis.multi().set(key, JSON.stringify(payload), 'EX', expiresIn);
      if (payload.grantId) {
        multi.rpush(`bare:grant:${payload.grantId}`, key).expire(`bare:grant:${payload.grantId}`, expiresIn);
      }
      if (payload.userCode) multi.set(`bare:userCode:${payload.userCode}`, id, 'EX', expiresIn);
      if (payload.uid) multi.set(`bare:uid:${payload.uid}`, id, 'EX', expiresIn);
      await multi.exec();
    }
    async find(id: string): Promise<AdapterPayload | undefined> {
      const data = await redis.get(this.key(id));
      return data ? (JSON.parse(data) as AdapterPayload) : undefined;
    }
    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const id = await redis.get(`bare:uid:${uid}`);
      return id ? this.find(id) : undefined;
    }
    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const id = await redis.get(`bare:userCode:${userCode}`);
      return id ? this.find(id) : undefined;
    }
    async consume(id: string): Promise<void> {
      const payload = await this.find(id);
      const ttl = await redis.ttl(this.key(id));
      if (payload && ttl > 0)
        await this.upsert(id, { ...payload, consumed: Math.floor(Date.now() / 1000) }, ttl);
    }
    async destroy(id: string): Promise<void> {
      await redis.del(this.key(id));
    }
    async revokeByGrantId(grantId: string): Promise<void> {
      const keys = await redis.lrange(`bare:grant:${grantId}`, 0, -1);
      await redis.del(...keys, `bare:grant:${grantId}`);
    }
  };
}
