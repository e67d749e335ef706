import { toStoreError } from './errors.ts';

/**
 * Runs one operation on Redis: whatever it throws that is not a protocol error (a closed or
 * offline connection, a command timeout, a Cluster that is down, an unexpected reply) becomes
 * the store's `StoreUnavailableError`, so that the HTTP layer answers `503 temporarily_unavailable`
 * with `Retry-After` rather than a 500. Every Redis-backed part of the store goes through this
 * (directly, or through {@link failingAsUnavailable}); the in-process parts cannot fail that way.
 *
 * @example
 * const record = await unavailableOnFailure(() => conn.hgetall(key));
 */
export async function unavailableOnFailure<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    throw toStoreError(err);
  }
}

/** An object whose every method is asynchronous: the shape of a storage backend. */
type AsyncMethods<T> = { readonly [K in keyof T]: (...args: never[]) => Promise<unknown> };

/**
 * `backend` with every method run through {@link unavailableOnFailure}: for backends whose
 * methods are each one Redis operation, so no method can forget the mapping.
 *
 * @example
 * const accounts = failingAsUnavailable(redisAccountBackend(conn));
 */
export function failingAsUnavailable<T extends AsyncMethods<T>>(backend: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(backend)) {
    wrapped[name] = (...args: unknown[]) =>
      unavailableOnFailure(() => (method as (...a: unknown[]) => Promise<unknown>)(...args));
  }
  return wrapped as T;
}
