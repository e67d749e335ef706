import type { Page } from 'playwright-core';

/** The SDK's key database in the page's origin (one key pair per issuer and client). */
const SDK_DATABASE = 'gatehouse-dpop';
/** Where {@link keepDpopKey} copies it, so a test can still prove possession after sign-out deleted it. */
const KEPT_DATABASE = 'gatehouse-test-kept-dpop';

/**
 * Whether `database`'s `keys` store inside `page` holds a key (opening a missing database would create it
 * empty and break the SDK's own upgrade, so the database list is read first).
 */
function holdsKey(page: Page, database: string): Promise<boolean> {
  return page.evaluate(async (name) => {
    if (!(await indexedDB.databases()).some((db) => db.name === name)) return false;
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    try {
      if (!db.objectStoreNames.contains('keys')) return false;
      const count = await new Promise<number>((resolve, reject) => {
        const request = db.transaction('keys', 'readonly').objectStore('keys').count();
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      return count > 0;
    } finally {
      db.close();
    }
  }, database);
}

/** Whether the SDK holds a DPoP key in `page`'s origin (sign-out with `dpop: true` deletes it). */
export function hasSdkDpopKey(page: Page): Promise<boolean> {
  return holdsKey(page, SDK_DATABASE);
}

/**
 * Copies the SDK's DPoP key pair into a test-owned IndexedDB database of the same origin (structured clone:
 * the private key stays non-extractable), so that after a sign-out has deleted the SDK's copy a test can still
 * sign proofs with the key the old tokens are bound to: what an attacker who had the page's key would hold.
 *
 * @example
 * await keepDpopKey(page);
 * await signOut(page);
 * const proof = await dpopProofFromPage(page, { method: 'POST', url: tokenUrl }, 'kept');
 */
export async function keepDpopKey(page: Page): Promise<void> {
  await page.evaluate(
    async ({ from, to }) => {
      const open = (name: string) =>
        new Promise<IDBDatabase>((resolve, reject) => {
          const request = indexedDB.open(name, 1);
          request.onupgradeneeded = () => request.result.createObjectStore('keys');
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
      const source = await open(from);
      const pair = await new Promise<CryptoKeyPair | undefined>((resolve, reject) => {
        const request = source.transaction('keys', 'readonly').objectStore('keys').getAll();
        request.onsuccess = () => resolve((request.result as CryptoKeyPair[])[0]);
        request.onerror = () => reject(request.error);
      });
      source.close();
      if (!pair) throw new Error(`no DPoP key in ${from} to keep`);
      const target = await open(to);
      await new Promise<void>((resolve, reject) => {
        const transaction = target.transaction('keys', 'readwrite');
        transaction.objectStore('keys').put(pair, 'kept');
        transaction.oncomplete = () => resolve();
        transaction.onerror = transaction.onabort = () => reject(transaction.error);
      });
      target.close();
    },
    { from: SDK_DATABASE, to: KEPT_DATABASE },
  );
}

/**
 * A DPoP proof (RFC 9449 §4.2) signed inside `page` with the SDK's key from the origin's IndexedDB
 * (`gatehouse-dpop`, the one key there), or with the copy {@link keepDpopKey} made (`key: 'kept'`): what script
 * running in the page can do with a key it cannot export, and what a test needs to call the API from Node with
 * a token the page holds. Without `accessToken` (a token request) the proof has no `ath`.
 *
 * @example
 * const proof = await dpopProofFromPage(page, { method: 'GET', url: `${apiUrl}/me`, accessToken });
 */
export function dpopProofFromPage(
  page: Page,
  claims: { method: string; url: string; accessToken?: string },
  key: 'sdk' | 'kept' = 'sdk',
): Promise<string> {
  const database = key === 'sdk' ? SDK_DATABASE : KEPT_DATABASE;
  return page.evaluate(
    async ({ method, url, accessToken, database }) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open(database);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const pair = await new Promise<CryptoKeyPair | undefined>((resolve, reject) => {
        const request = db.transaction('keys', 'readonly').objectStore('keys').getAll();
        request.onsuccess = () => resolve((request.result as CryptoKeyPair[])[0]);
        request.onerror = () => reject(request.error);
      });
      db.close();
      if (!pair) throw new Error(`no DPoP key in ${database}`);
      const b64 = (bytes: ArrayBuffer | Uint8Array) =>
        btoa(String.fromCharCode(...new Uint8Array(bytes)))
          .replace(/=+$/, '')
          .replace(/\+/g, '-')
          .replace(/\//g, '_');
      const json = (value: object) => b64(new TextEncoder().encode(JSON.stringify(value)));
      const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
      const header = json({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } });
      const payload = json({
        jti: crypto.randomUUID(),
        htm: method,
        htu: url,
        iat: Math.floor(Date.now() / 1000),
        ...(accessToken === undefined
          ? {}
          : { ath: b64(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken))) }),
      });
      const signature = await crypto.subtle.sign(
        { name: 'ECDSA', hash: 'SHA-256' },
        pair.privateKey,
        new TextEncoder().encode(`${header}.${payload}`),
      );
      return `${header}.${payload}.${b64(signature)}`;
    },
    { ...claims, database },
  );
}
