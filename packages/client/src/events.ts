import type { GatehouseError, SessionExpiredError } from './errors.ts';
import type { TokenSet } from './token-set.ts';

/**
 * The events a client emits and what their listeners receive.
 *
 * @example
 * ```ts
 * const off = auth.on('tokensChanged', (tokens) => render(tokens !== undefined));
 * off();
 * ```
 */
export interface GatehouseEvents {
  /** New tokens after sign-in or refresh (also from another tab), or `undefined` once they are gone. */
  tokensChanged: TokenSet | undefined;
  /** The server rejected the refresh token; storage is already cleared. Emitted once per expiry. */
  sessionExpired: SessionExpiredError;
  /** A refresh failed for a reason that keeps the session (network, timeout, server error). */
  refreshFailed: GatehouseError;
  /** `signOut()` ran here or in another tab. */
  signedOut: undefined;
}

/**
 * A listener for one {@link GatehouseEvents} event.
 *
 * @example
 * ```ts
 * const onExpired: GatehouseListener<'sessionExpired'> = (error) => console.warn(error.message);
 * auth.on('sessionExpired', onExpired);
 * ```
 */
export type GatehouseListener<E extends keyof GatehouseEvents> = (payload: GatehouseEvents[E]) => void;

/**
 * A minimal typed event emitter. A throwing listener does not disturb the SDK or other listeners; its error
 * is rethrown asynchronously so it still surfaces as an uncaught error.
 *
 * @example
 * ```ts
 * const events = new GatehouseEventEmitter();
 * events.on('signedOut', () => console.log('bye'));
 * events.emit('signedOut', undefined);
 * ```
 */
export class GatehouseEventEmitter {
  readonly #listeners = new Map<keyof GatehouseEvents, Set<(payload: never) => void>>();

  on<E extends keyof GatehouseEvents>(event: E, listener: GatehouseListener<E>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  emit<E extends keyof GatehouseEvents>(event: E, payload: GatehouseEvents[E]): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        (listener as GatehouseListener<E>)(payload);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
