import type { TokenStorage } from './token-storage.ts';

/**
 * Keeps tokens in this JavaScript realm only: gone on reload, invisible to other tabs and to XSS that reads
 * `localStorage`. The default.
 *
 * @example
 * ```ts
 * const auth = createGatehouseClient({ issuer, clientId, storage: memoryStorage() });
 * ```
 */
export function memoryStorage(): TokenStorage {
  const values = new Map<string, string>();
  return {
    get: async (key) => values.get(key),
    set: async (key, value) => {
      values.set(key, value);
    },
    remove: async (key) => {
      values.delete(key);
    },
  };
}
