import type { GatehouseClient, RedirectCallbackResult } from '@gatehouse/client';

/** The last callback URL each client exchanged, and how that went. */
const exchanges = new WeakMap<GatehouseClient, { url: string; result: Promise<RedirectCallbackResult> }>();

/**
 * `client.handleRedirectCallback(url)`, at most once per client and URL: Strict Mode runs every effect twice,
 * and a second exchange of the same code would fail with `ERR_STATE_MISMATCH` (the SDK spent the `state`) or,
 * had it reached the server, revoke what the first one issued (RFC 6749 §4.1.2: a code is used once). Every
 * caller with the same URL gets the first call's promise.
 *
 * @example
 * ```ts
 * const { returnTo } = await handleRedirectCallbackOnce(auth, location.href);
 * history.replaceState(null, '', returnTo ?? '/');
 * ```
 */
export function handleRedirectCallbackOnce(
  client: GatehouseClient,
  url: string,
): Promise<RedirectCallbackResult> {
  const last = exchanges.get(client);
  if (last?.url === url) return last.result;
  const result = client.handleRedirectCallback(url);
  exchanges.set(client, { url, result });
  return result;
}

/**
 * Whether this page is the redirect URI with an authorization response on it: RFC 6749 §4.1.2 puts `code` (or
 * §4.1.2.1 `error`) and `state` in the query.
 *
 * @example
 * ```ts
 * if (isRedirectCallback('/callback')) await handleRedirectCallbackOnce(auth, location.href);
 * ```
 */
export function isRedirectCallback(callbackPath: string): boolean {
  if (!globalThis.location || location.pathname !== callbackPath) return false;
  const query = new URLSearchParams(location.search);
  return query.has('state') && (query.has('code') || query.has('error'));
}
