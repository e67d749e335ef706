import type { TokenStorage } from './token-storage.ts';

/**
 * Keeps tokens in `sessionStorage` (this tab, survives reloads) or `localStorage` (every tab, survives restarts).
 * Where Web Storage is missing (server-side rendering) it reads as empty and writes nowhere.
 *
 * @example
 * ```ts
 * const auth = createGatehouseClient({ issuer, clientId, storage: browserStorage('local') });
 * ```
 */
export function browserStorage(kind: 'session' | 'local' = 'session'): TokenStorage {
  const area = (): Storage | undefined => {
    try {
      return kind === 'local' ? globalThis.localStorage : globalThis.sessionStorage;
    } catch {
      // Sandboxed iframes and some privacy modes throw on mere access.
      return undefined;
    }
  };
  return {
    get: async (key) => area()?.getItem(key),
    set: async (key, value) => {
      area()?.setItem(key, value);
    },
    remove: async (key) => {
      area()?.removeItem(key);
    },
  };
}
