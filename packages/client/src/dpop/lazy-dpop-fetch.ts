import { GatehouseError } from '../errors.ts';
import type { createDpopFetch, DpopFetch } from './dpop-fetch.ts';

type DpopFetchParameters = Parameters<typeof createDpopFetch> extends [unknown, ...infer Rest] ? Rest : never;

/**
 * The only DPoP code in the browser entry: a `fetch` that loads the DPoP chunk (`dpop-fetch.ts`, a dynamic
 * import that bundlers split off) on its first request and hands every request to it, and `forgetKey()` for
 * sign-out (which loads the chunk too). A failed load (offline)
 * is tried again on the next request. The chunk gets {@link GatehouseError} from here, so that it imports
 * nothing from the entry (which would split a shared chunk off it).
 *
 * @example
 * ```ts
 * const fetchWithDpop = lazyDpopFetch(fetch, prefix, () => context.metadata());
 * ```
 */
export function lazyDpopFetch(...args: DpopFetchParameters): DpopFetch {
  let loaded: Promise<DpopFetch> | undefined;
  // A chunk that failed to load (offline) is tried again on the next request.
  const load = () =>
    (loaded ??= import('./dpop-fetch.ts').then(
      (chunk) => chunk.createDpopFetch(GatehouseError, ...args),
      (error: unknown) => {
        loaded = undefined;
        throw error;
      },
    ));
  return Object.assign(async (input: RequestInfo | URL, init?: RequestInit) => (await load())(input, init), {
    forgetKey: async () => (await load()).forgetKey(),
  });
}
