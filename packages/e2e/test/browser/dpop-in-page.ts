import type { Page } from 'playwright-core';

/**
 * A DPoP proof (RFC 9449 §4.2) signed inside `page` with the SDK's key from the origin's IndexedDB
 * (`gatehouse-dpop`, the one key there): what script running in the page can do with a key it cannot export,
 * and what a test needs to call the API from Node with a token the page holds. Without `accessToken`
 * (a token request) the proof has no `ath`.
 *
 * @example
 * const proof = await dpopProofFromPage(page, { method: 'GET', url: `${apiUrl}/me`, accessToken });
 */
export function dpopProofFromPage(
  page: Page,
  claims: { method: string; url: string; accessToken?: string },
): Promise<string> {
  return page.evaluate(async ({ method, url, accessToken }) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('gatehouse-dpop');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const pair = await new Promise<CryptoKeyPair>((resolve, reject) => {
      const request = db.transaction('keys', 'readonly').objectStore('keys').getAll();
      request.onsuccess = () => resolve((request.result as CryptoKeyPair[])[0]!);
      request.onerror = () => reject(request.error);
    });
    db.close();
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
  }, claims);
}
