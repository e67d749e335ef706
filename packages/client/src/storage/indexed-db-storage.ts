import type { TokenStorage } from './token-storage.ts';

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

const STORE = 'tokens';

function settle<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * Keeps tokens in IndexedDB: shared by every tab of the origin and, unlike `localStorage`, consistent
 * between them. Chromium hands a `localStorage` write to other tabs asynchronously, so a tab that takes the
 * refresh lock right after another tab rotated the refresh token can still read the old one and replay it
 * (RFC 9700 §4.14.2: the server then revokes the whole session). IndexedDB has one store per origin; a write
 * resolves here only once its transaction has committed, and a transaction started later (in any tab) sees
 * it. The refresher writes before it releases the Web Lock, so whoever takes the lock next reads the latest
 * tokens. Rejects (and the SDK then keeps tokens in memory) where IndexedDB is missing or refuses to open.
 *
 * @example
 * ```ts
 * const auth = createGatehouseClient({ issuer, clientId, storage: indexedDbStorage() });
 * ```
 */
export function indexedDbStorage(options: IndexedDbStorageOptions = {}): TokenStorage {
  const name = options.databaseName ?? 'gatehouse';
  let connection: Promise<IDBDatabase> | undefined;

  const open = (): Promise<IDBDatabase> => {
    connection ??= new Promise<IDBDatabase>((resolve, reject) => {
      // Throws (so rejects) where IndexedDB is missing.
      const request = globalThis.indexedDB.open(name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      request.onsuccess = () => {
        const db = request.result;
        // Another tab upgrading the database (a newer SDK) must not wait for this one to be closed.
        db.onversionchange = () => {
          db.close();
          connection = undefined;
        };
        db.onclose = () => {
          connection = undefined;
        };
        resolve(db);
      };
      request.onerror = () => reject(request.error);
    }).catch((error: unknown) => {
      connection = undefined; // try again on the next call
      throw error;
    });
    return connection;
  };

  const write = async (apply: (store: IDBObjectStore) => void): Promise<void> => {
    const transaction = (await open()).transaction(STORE, 'readwrite');
    // Resolve on `complete`, not on the request's success: only a committed write is visible to other tabs.
    const done = new Promise<void>((resolve, reject) => {
      transaction.oncomplete = () => resolve();
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
    apply(transaction.objectStore(STORE));
    await done;
  };

  return {
    async get(key) {
      const value: unknown = await settle(
        (await open()).transaction(STORE, 'readonly').objectStore(STORE).get(key),
      );
      return typeof value === 'string' ? value : undefined;
    },
    set: (key, value) => write((store) => store.put(value, key)),
    remove: (key) => write((store) => store.delete(key)),
  };
}
