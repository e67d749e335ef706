import { browserStorage } from './browser-storage.ts';
import { memoryStorage } from './memory-storage.ts';
import { delegate, type TokenStorage } from './token-storage.ts';

/**
 * Access tokens in memory, everything else (the refresh token, sign-in transactions) in `persistent`
 * (default `browserStorage('local')`, which is IndexedDB, consistent between tabs): a reload keeps the session
 * through one refresh, while the short-lived bearer token never touches disk. Tabs share fresh access tokens
 * over BroadcastChannel; a tab that finds under the refresh lock that another tab already rotated the refresh
 * token waits for that tab's broadcast instead of refreshing again.
 *
 * @example
 * ```ts
 * const auth = createGatehouseClient({ issuer, clientId, storage: hybridStorage() });
 * ```
 */
export function hybridStorage(persistent: TokenStorage = browserStorage('local')): TokenStorage {
  const memory = memoryStorage();
  return delegate((key) => (key.endsWith(':access') ? memory : persistent));
}
