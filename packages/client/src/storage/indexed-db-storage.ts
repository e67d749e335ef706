import { lacks, type TokenStorage } from './token-storage.ts';

/**
 * Options of {@link indexedDbStorage}.
 *
 * @example
 * ```ts
 * const storage = indexedDbStorage({ databaseName: 'my-app-auth' });
 * ```
 */
export interface IndexedDbStorageOptions {
  /**
   * The IndexedDB database (one object store, `tokens`, keyed by the SDK's storage keys).
   * @default 'gatehouse'
   */
  databaseName?: string;
}

/**
 * Keeps tokens in IndexedDB: shared by every tab of the origin and, unlike `localStorage`, consistent
 * between them. Chromium hands a `localStorage` write to other tabs asynchronously, so a tab that takes the
 * refresh lock right after another tab rotated the refresh token can still read the old one and replay it
 * (RFC 9700 §4.14.2: the server then revokes the whole session). IndexedDB has one store per origin; a write
 * resolves here only once its transaction has committed, and a transaction started later (in any tab) sees
 * it. The refresher writes before it releases the Web Lock, so whoever takes the lock next reads the latest
 * tokens. Each operation opens the database and closes it when its transaction ends, so this tab never
 * blocks another one upgrading the database. Rejects (and the SDK then keeps tokens in memory) where IndexedDB
 * is missing or refuses to open.
 *
 * @example
 * ```ts
 * const auth = createGatehouseClient({ issuer, clientId, storage: indexedDbStorage() });
 * ```
 */
export function indexedDbStorage({ databaseName = 'gatehouse' }: IndexedDbStorageOptions = {}): TokenStorage {
  /** One request in a transaction of its own; `readonly` (IndexedDB's default) unless `mode` says otherwise. */
  const run = (apply: (store: IDBObjectStore) => IDBRequest, mode?: IDBTransactionMode) =>
    new Promise<unknown>((resolve, reject) => {
      // Server-side rendering and Node have no IndexedDB: say so rather than fail on `undefined.open`.
      const open = (globalThis.indexedDB ?? lacks('indexedDbStorage()', 'IndexedDB')).open(databaseName, 1);
      open.onupgradeneeded = () => open.result.createObjectStore('tokens');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const db = open.result;
        const transaction = db.transaction('tokens', mode);
        const request = apply(transaction.objectStore('tokens'));
        // Settle on `complete`, not on the request's success: only a committed write is visible to other tabs.
        transaction.oncomplete = () => resolve(request.result);
        // A failed request aborts the transaction (unless its error event is cancelled, which nothing here does),
        // and `error` is only set once it has: `abort` alone rejects, with the request's error.
        transaction.onabort = () => reject(transaction.error);
        db.close(); // takes effect once the transaction is done
      };
    });
  return {
    // Only this storage writes the database, and only strings; readers validate what they parse anyway.
    get: (key) => run((store) => store.get(key)) as Promise<string | undefined>,
    // Writes resolve with IndexedDB's request result, which nobody reads.
    set: (key, value) => run((store) => store.put(value, key), 'readwrite') as Promise<void>,
    remove: (key) => run((store) => store.delete(key), 'readwrite') as Promise<void>,
  };
}
