/**
 * Where the SDK keeps tokens: any object with async `get`, `set` and `remove` of string values. The SDK writes
 * a few keys per client (`…:access`, `…:session`, `…:txn:<state>`); values are JSON the SDK validates on read,
 * so a stale or corrupted value is ignored instead of breaking start-up.
 *
 * @example
 * ```ts
 * const redisStorage: TokenStorage = {
 *   get: (key) => redis.get(key).then((value) => value ?? undefined),
 *   set: async (key, value) => { await redis.set(key, value); },
 *   remove: async (key) => { await redis.del(key); },
 * };
 * const auth = createGatehouseClient({ issuer, clientId, storage: redisStorage });
 * ```
 */
export interface TokenStorage {
  get(key: string): Promise<string | null | undefined>;
  set(key: string, value: string): Promise<void>;
  remove(key: string): Promise<void>;
}
