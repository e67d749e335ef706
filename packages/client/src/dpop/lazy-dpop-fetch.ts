import type { DpopFetchOptions } from './dpop-fetch.ts';

/**
 * The only DPoP code in the browser entry: a `fetch` that loads the DPoP chunk (`dpop-fetch.ts`, a dynamic
 * import that bundlers split off) on its first request and hands every request to it. A failed load (offline)
 * is tried again on the next request.
 *
 * @example
 * ```ts
 * const fetchWithDpop = lazyDpopFetch({ fetch, name: prefix, tokenEndpoint });
 * ```
 */
export function lazyDpopFetch(options: DpopFetchOptions): typeof fetch {
  let loaded: Promise<typeof fetch> | undefined;
  return async (input, init) => {
    loaded ??= import('./dpop-fetch.ts').then(
      (chunk) => chunk.createDpopFetch(options),
      (error: unknown) => {
        loaded = undefined;
        throw error;
      },
    );
    return (await loaded)(input, init);
  };
}
