import { TimeoutError } from './errors.ts';

/**
 * Mutual exclusion for refreshes that share one refresh token: whoever holds the lock re-reads storage, and
 * refreshes only if nobody else already did. Inside one client a single in-flight promise already dedupes;
 * the lock is for several clients (tabs, or instances sharing one storage).
 *
 * @example
 * ```ts
 * const lock: RefreshLock = { run: (name, task) => myMutex.runExclusive(task) };
 * ```
 */
export interface RefreshLock {
  run<T>(name: string, task: () => Promise<T>): Promise<T>;
}

/**
 * A lock shared by every client in this JavaScript realm that is given the same instance: for several clients
 * over one storage in one process (a Node service with two instances, or tests).
 *
 * @example
 * ```ts
 * const lock = inProcessLock();
 * const a = createGatehouseClient({ issuer, clientId, storage, lock });
 * const b = createGatehouseClient({ issuer, clientId, storage, lock });
 * ```
 */
export function inProcessLock(): RefreshLock {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run<T>(name: string, task: () => Promise<T>): Promise<T> {
      const previous = tails.get(name) ?? Promise.resolve();
      const result = previous.then(task, task);
      const tail = result.catch(() => undefined);
      tails.set(name, tail);
      void tail.then(() => {
        if (tails.get(name) === tail) tails.delete(name);
      });
      return result;
    },
  };
}

interface LockManagerLike {
  request<T>(name: string, options: { signal?: AbortSignal }, callback: () => Promise<T>): Promise<T>;
}

/**
 * The Web Locks API (`navigator.locks`), shared by every tab and worker of the origin, with a timeout so a
 * frozen tab holding the lock cannot block the others forever. `undefined` where the API is missing.
 *
 * @example
 * ```ts
 * const auth = createGatehouseClient({ issuer, clientId, lock: webLock(5_000) ?? inProcessLock() });
 * ```
 */
export function webLock(timeoutMs = 10_000): RefreshLock | undefined {
  const locks = (globalThis.navigator as { locks?: LockManagerLike } | undefined)?.locks;
  if (!locks?.request) return undefined;
  return {
    run<T>(name: string, task: () => Promise<T>): Promise<T> {
      const signal = AbortSignal.timeout(timeoutMs);
      let granted: Promise<T> | undefined;
      return locks
        .request(name, { signal }, () => (granted = task()))
        .catch((cause: unknown) => {
          // The signal only bounds the wait for the lock; once granted, the task's own errors pass through.
          throw granted || !signal.aborted
            ? cause
            : new TimeoutError('the refresh lock timed out', { cause });
        });
    },
  };
}
