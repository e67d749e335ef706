/**
 * The snapshot's types. The session (`session.ts`) keeps the snapshot where its tokens change, and so do other
 * tabs' sessions from the same broadcasts, so every tab shows the same state. Changes within one task (tokens
 * cleared, then `sessionExpired`) are published once.
 */
import type { GatehouseClientError } from './errors.ts';
import type { GatehouseUser } from './id-token.ts';

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
