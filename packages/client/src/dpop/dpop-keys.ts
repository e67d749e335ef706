/**
 * Where a client's DPoP key lives. One key per issuer and client (the storage prefix names it), shared by
 * every tab of the origin in browsers and by every client of the process in Node: a refresh token is bound to
 * the key that requested it (RFC 9449 §5), so whoever renews it next must hold the same key.
 */
import type { GatehouseError } from '../errors.ts';
import type { TokenStorage } from '../storage/token-storage.ts';

/**
 * Gets the client's key pair, creating it on first use, and deletes it at sign-out.
 *
 * @example
 * ```ts
 * const keys: DpopKeyStore = { load: async () => myKeyPair, forget: async () => {} };
 * ```
 */
export interface DpopKeyStore {
  load(): Promise<CryptoKeyPair>;
  /** Deletes the key: the next `load()` creates a new one (sign-out, so that the next sign-in has a key of its own). */
  forget(): Promise<void>;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/**
 * This runtime cannot keep a DPoP key: a plain `Error`, which `createDpopFetch` turns into the
 * `ERR_DPOP_UNSUPPORTED` {@link GatehouseError} callers see (this file imports nothing from the browser entry).
 */
const unsupported = (message: string, cause?: unknown): Error =>
  Object.assign(new Error(message, { cause }), { unsupported: true });

/** A new P-256 key pair; the private key is non-extractable unless it must be written to a file. */
async function generate(extractable = false): Promise<CryptoKeyPair> {
  if (!globalThis.crypto?.subtle)
    throw unsupported('DPoP needs WebCrypto (crypto.subtle): a secure context (https or localhost)');
  return crypto.subtle.generateKey(ALGORITHM, extractable, ['sign', 'verify']);
}

const DATABASE = 'gatehouse-dpop';

/** One IndexedDB request in its own transaction, settled when the transaction commits. */
function transact<T>(mode: IDBTransactionMode, apply: (store: IDBObjectStore) => IDBRequest): Promise<T> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DATABASE, 1);
    open.onupgradeneeded = () => open.result.createObjectStore('keys');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const transaction = db.transaction('keys', mode);
      const request = apply(transaction.objectStore('keys'));
      transaction.oncomplete = () => resolve(request.result as T);
      // An `add` that finds the key taken aborts its transaction with ConstraintError.
      transaction.onerror = transaction.onabort = () => reject(transaction.error ?? request.error);
      db.close();
    };
  });
}

/**
 * The browser's key store: a `CryptoKeyPair` in IndexedDB (structured clone keeps the private key
 * non-extractable: it never exists as bytes in JavaScript). Two tabs creating the key at once both generate
 * one, but only the first `add` commits; the other fails on the taken name and reads the winner's.
 *
 * @example
 * ```ts
 * const keys = indexedDbDpopKeys('gatehouse:https://id.example.com:demo-spa');
 * ```
 */
export function indexedDbDpopKeys(name: string): DpopKeyStore {
  const read = () => transact<CryptoKeyPair | undefined>('readonly', (store) => store.get(name));
  return {
    async load() {
      try {
        const stored = await read();
        if (stored?.privateKey) return stored;
        const created = await generate();
        return await transact<IDBValidKey>('readwrite', (store) => store.add(created, name)).then(
          () => created,
          async (error: unknown) => {
            const winner = await read();
            if (winner?.privateKey) return winner;
            throw error;
          },
        );
      } catch (cause) {
        if ((cause as { unsupported?: boolean }).unsupported) throw cause;
        throw unsupported('DPoP needs IndexedDB to keep its key, and IndexedDB refused', cause);
      }
    },
    forget: () => transact('readwrite', (store) => store.delete(name)),
  };
}

/** Keys of this process, per client name: several clients of one issuer and client share theirs. */
const inMemory = new Map<string, Promise<CryptoKeyPair>>();

/**
 * Node's default key store: the key lives as long as the process, shared by every client with the same
 * name (issuer and client id). A refresh token a later process finds in storage is then bound to a lost key,
 * and its renewal fails with `invalid_grant` (`SessionExpiredError`); `fileStorage()` keeps the key instead.
 *
 * @example
 * ```ts
 * const keys = memoryDpopKeys('gatehouse:https://id.example.com:demo-cli');
 * ```
 */
export function memoryDpopKeys(name: string): DpopKeyStore {
  return {
    load() {
      let pair = inMemory.get(name);
      if (!pair) {
        pair = generate();
        inMemory.set(name, pair);
        pair.catch(() => inMemory.delete(name));
      }
      return pair;
    },
    async forget() {
      inMemory.delete(name);
    },
  };
}

/**
 * The key beside the tokens, as a private JWK under `<name>:dpop`: for storages that are files of mode 0600
 * (`fileStorage()`), where a refresh token that survives the process needs its key too. The key must be
 * extractable to be written; it is imported back non-extractable.
 *
 * @example
 * ```ts
 * const keys = storedDpopKeys(fileStorage(path), 'gatehouse:https://id.example.com:demo-cli');
 * ```
 */
export function storedDpopKeys(storage: TokenStorage, name: string): DpopKeyStore {
  const key = `${name}:dpop`;
  let pair: Promise<CryptoKeyPair> | undefined;
  const importPair = async ({ kty, crv, x, y, d }: JsonWebKey): Promise<CryptoKeyPair> => {
    // Only the key itself: the exported `key_ops` (sign) would not fit the public half.
    const publicJwk = { kty, crv, x, y } as JsonWebKey;
    return {
      privateKey: await crypto.subtle.importKey('jwk', { ...publicJwk, d } as JsonWebKey, ALGORITHM, false, [
        'sign',
      ]),
      publicKey: await crypto.subtle.importKey('jwk', publicJwk, ALGORITHM, true, ['verify']),
    };
  };
  const loadOrCreate = async (): Promise<CryptoKeyPair> => {
    const saved = await storage.get(key);
    if (saved) {
      try {
        return await importPair(JSON.parse(saved) as JsonWebKey);
      } catch {
        // A corrupted key is as good as none: tokens bound to it cannot be renewed anyway.
      }
    }
    const created = await generate(true);
    const jwk = await crypto.subtle.exportKey('jwk', created.privateKey);
    await storage.set(key, JSON.stringify(jwk));
    return importPair(jwk);
  };
  return {
    load() {
      pair ??= loadOrCreate().catch((error: unknown) => {
        pair = undefined;
        throw error;
      });
      return pair;
    },
    forget() {
      pair = undefined;
      return storage.remove(key);
    },
  };
}
