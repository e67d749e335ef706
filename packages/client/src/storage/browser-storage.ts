import { indexedDbStorage } from './indexed-db-storage.ts';
import { lacks, type TokenStorage } from './token-storage.ts';

function webStorage(kind: 'session' | 'local'): TokenStorage {
  const name = `${kind}Storage`;
  const area = (): Storage | undefined => {
    let storage: Storage | undefined;
    try {
      storage = (globalThis as unknown as Record<string, Storage | undefined>)[name];
    } catch {
      // Sandboxed iframes and some privacy modes throw on mere access: the browser refuses, so nothing is kept.
      return undefined;
    }
    return storage ?? lacks(`browserStorage('${kind}')`, name);
  };
  return {
    get: async (key) => area()?.getItem(key),
    set: async (key, value) => area()?.setItem(key, value),
    remove: async (key) => area()?.removeItem(key),
  };
}

/**
 * Keeps tokens for this tab (`'session'`: `sessionStorage`, survives reloads) or for every tab of the origin
 * (`'local'`, survives restarts). `'local'` keeps them in IndexedDB ({@link indexedDbStorage}) rather than
 * `localStorage`: tabs refresh one after another under a lock and must each read what the previous one
 * wrote, and Chromium delivers `localStorage` writes to other tabs late, so a tab could replay a refresh token
 * that was already rotated, and the server would end the session everywhere. Where IndexedDB is missing,
 * `'local'` uses `localStorage`; where it refuses to open, reads and writes fail and the client keeps the
 * session in memory. Where the browser refuses Web Storage (sandboxed iframes) it reads as empty and writes
 * nowhere; where Web Storage is missing altogether (Node, server-side rendering) calls reject with
 * `ERR_CONFIGURATION`, which a client reads as "signed out".
 *
 * @example
 * ```ts
 * const auth = createGatehouseClient({ issuer, clientId, storage: browserStorage('local') });
 * ```
 */
export function browserStorage(kind: 'session' | 'local' = 'session'): TokenStorage {
  return kind === 'local' && globalThis.indexedDB ? indexedDbStorage() : webStorage(kind);
}
