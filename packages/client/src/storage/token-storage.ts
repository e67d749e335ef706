import type { GatehouseError } from '../errors.ts';
import { fail } from '../protocol.ts';

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

/**
 * A storage that hands each call to the storage `pick` chooses for its key.
 *
 * @example
 * ```ts
 * const split = delegate((key) => (key.endsWith(':access') ? memoryStorage() : fileStorage(path)));
 * ```
 */
export const delegate = (pick: (key: string) => TokenStorage | Promise<TokenStorage>): TokenStorage => ({
  get: async (key) => (await pick(key)).get(key),
  set: async (key, value) => (await pick(key)).set(key, value),
  remove: async (key) => (await pick(key)).remove(key),
});

/**
 * The error of a browser storage used where the browser API behind it is missing (Node, server-side rendering):
 * a {@link GatehouseError} `ERR_CONFIGURATION` naming both, rather than a `TypeError` from `undefined`.
 *
 * @example
 * ```ts
 * const db = globalThis.indexedDB ?? lacks('indexedDbStorage()', 'IndexedDB');
 * ```
 */
export const lacks = (storage: string, api: string): never =>
  fail(`${storage} needs ${api}, which this runtime lacks (in Node use fileStorage())`, 'ERR_CONFIGURATION');
