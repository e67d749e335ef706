import type { Page } from 'playwright-core';

/**
 * What the SDK persisted in this page's origin: its IndexedDB entries (`browserStorage('local')` and
 * `hybridStorage()` keep the session there) and any `gatehouse:` keys left in `localStorage`.
 *
 * @example
 * const { indexedDb } = await sdkStorage(page);
 * const session = Object.entries(indexedDb).find(([key]) => key.endsWith(':session'))?.[1];
 */
export function sdkStorage(
  page: Page,
): Promise<{ indexedDb: Record<string, string>; localStorage: Record<string, string> }> {
  return page.evaluate(async () => {
    const local: Record<string, string> = {};
    for (const key of Object.keys(localStorage)) {
      if (key.startsWith('gatehouse:')) local[key] = localStorage.getItem(key) ?? '';
    }
    const known = await indexedDB.databases();
    if (!known.some((db) => db.name === 'gatehouse')) return { indexedDb: {}, localStorage: local };
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('gatehouse');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    try {
      const store = db.transaction('tokens', 'readonly').objectStore('tokens');
      const [keys, values] = await Promise.all(
        [store.getAllKeys(), store.getAll()].map(
          (request) =>
            new Promise<unknown[]>((resolve, reject) => {
              request.onsuccess = () => resolve(request.result);
              request.onerror = () => reject(request.error);
            }),
        ),
      );
      const entries = (keys ?? []).map((key, i) => [String(key), String(values?.[i])]);
      return { indexedDb: Object.fromEntries(entries), localStorage: local };
    } finally {
      db.close();
    }
  });
}
