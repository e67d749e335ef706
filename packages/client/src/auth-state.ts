import type { GatehouseClientError } from './errors.ts';
import { decodeJwt, type GatehouseUser } from './id-token.ts';
import type { Session } from './session.ts';

/**
 * Where the client stands: `loading` until the stored session was read (and an expired access token renewed),
 * then `signedIn`, `signedOut`, or `expired` when the server ended the session (revoked, expired, replayed)
 * and the user has to sign in again.
 *
 * @example
 * ```ts
 * const status: AuthStatus = auth.getSnapshot().status;
 * ```
 */
export type AuthStatus = 'loading' | 'signedOut' | 'signedIn' | 'expired';

/**
 * One immutable view of the client for UI frameworks: the same object until something in it changes, so it
 * satisfies React's `useSyncExternalStore` (and Svelte or Vue stores) as is.
 *
 * @example
 * ```ts
 * const { status, user, error } = auth.getSnapshot();
 * ```
 */
export interface AuthSnapshot {
  readonly status: AuthStatus;
  /** The signed-in user's ID token claims, `undefined` unless `signedIn`. */
  readonly user: GatehouseUser | undefined;
  /** Why the session ended (`expired`) or why the last renewal failed; cleared by the next tokens. */
  readonly error: GatehouseClientError | undefined;
}

/**
 * The snapshot of one client's session, kept from the session's events; in other tabs the same events
 * arrive through the session's BroadcastChannel, so every tab shows the same state. Changes within one
 * task (tokens cleared, then `sessionExpired`) are published once.
 *
 * @example
 * ```ts
 * const state = createAuthState(session);
 * const stop = state.subscribe(() => render(state.getSnapshot()));
 * ```
 */
export function createAuthState(session: Session) {
  const listeners = new Set<() => void>();
  let snapshot: AuthSnapshot = { status: 'loading', user: undefined, error: undefined };
  let loaded = false;
  let expired = false;
  let error: GatehouseClientError | undefined;
  /** The user's claims but the volatile ones, as JSON; `undefined` while nobody is signed in. */
  let identity: string | undefined;
  let pending = false;

  const publish = (): void => {
    pending = false;
    const tokens = session.peek();
    const claims = tokens?.idToken ? (decodeJwt(tokens.idToken) as GatehouseUser) : undefined;
    // Claims that change with every renewal of the same user do not make a new `user` object.
    const next =
      claims &&
      JSON.stringify(
        Object.entries(claims).filter(([claim]) => !/^(exp|iat|auth_time|at_hash|nonce|sid)$/.test(claim)),
      );
    const user = next === identity ? snapshot.user : claims;
    const status: AuthStatus = !loaded ? 'loading' : tokens ? 'signedIn' : expired ? 'expired' : 'signedOut';
    if (status === snapshot.status && user === snapshot.user && error === snapshot.error) return;
    const before = snapshot.user?.sub;
    identity = next;
    snapshot = { status, user, error };
    if (user?.sub !== before) session.emit('userChanged', user);
    for (const listener of [...listeners]) listener();
  };
  const later = (): void => {
    if (!pending) queueMicrotask(publish);
    pending = true;
  };

  session.on('tokensChanged', (tokens) => {
    if (tokens) {
      expired = false;
      error = undefined;
    }
    later();
  });
  session.on('sessionExpired', (cause) => {
    expired = true;
    error = cause;
    later();
  });
  session.on('signedOut', () => {
    expired = false;
    error = undefined;
    later();
  });
  session.on('refreshFailed', (cause) => {
    error = cause;
    later();
  });
  void session.ready.then(() => {
    loaded = true;
    publish();
  });

  return {
    getSnapshot: (): AuthSnapshot => snapshot,
    /** Calls `listener` after every change of the snapshot; returns the unsubscribe function. */
    subscribe(listener: () => void): () => void {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
