import type { GatehouseClientError, SessionExpiredError } from './errors.ts';
import type { GatehouseUser } from './id-token.ts';
import type { TokenSet } from './token-set.ts';

/**
 * Events of a client and their payloads.
 *
 * @example
 * ```ts
 * auth.on('tokensChanged', (tokens) => console.log(tokens ? 'signed in' : 'signed out'));
 * auth.on('sessionExpired', () => auth.signInRedirect());
 * auth.on('refreshFailed', (error) => console.warn('renewal failed, will retry on next call', error.code));
 * ```
 */
export interface GatehouseEvents {
  /** New tokens (sign-in, renewal, another tab), or `undefined` when the session ended. */
  tokensChanged: TokenSet | undefined;
  /** The server refused the refresh token (`invalid_grant`); emitted once per session. */
  sessionExpired: SessionExpiredError;
  /** A renewal failed without ending the session (network, timeout, server error); the next call retries. */
  refreshFailed: GatehouseClientError;
  /** `signOut()` finished here or in another tab. */
  signedOut: undefined;
  /**
   * The server ended the session (revoked, expired, replayed) and this tab learnt it first: send the user to
   * sign in from here. Other tabs get `sessionExpired` only, and adopt the new session once this sign-in is
   * done, so a revocation never prompts once per tab.
   */
  signInRequired: SessionExpiredError;
  /** Someone else is signed in, or nobody is any more: the ID token's `sub` changed (`undefined`: signed out). */
  userChanged: GatehouseUser | undefined;
}

/**
 * A listener for one event.
 *
 * @example
 * ```ts
 * const onExpired: GatehouseListener<'sessionExpired'> = (error) => showSignIn(error.message);
 * ```
 */
export type GatehouseListener<E extends keyof GatehouseEvents> = (payload: GatehouseEvents[E]) => void;
