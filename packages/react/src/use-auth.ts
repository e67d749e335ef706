import type {
  AuthSnapshot,
  GatehouseClient,
  SignInRedirectOptions,
  SignOutOptions,
  SignOutResult,
} from '@gatehouse/client';
import { useMemo, useSyncExternalStore } from 'react';
import { useGatehouseClient } from './gatehouse-provider.ts';
import { leavingClients } from './leaving-clients.ts';

/**
 * What {@link useAuth} returns: the client's snapshot, and the two actions a UI needs.
 *
 * @example
 * ```ts
 * const { status, user, signIn }: AuthState = useAuth();
 * ```
 */
export interface AuthState extends AuthSnapshot {
  /** `status === 'signedIn'`. */
  readonly isAuthenticated: boolean;
  /** `status === 'loading'`: the stored session is still being read (always so on the server). */
  readonly isLoading: boolean;
  /** Redirects to sign-in; `returnTo` defaults to the current path, query and fragment. */
  signIn(options?: SignInRedirectOptions): Promise<void>;
  /**
   * Revokes the refresh token, clears every tab, ends the session at the server. Use this rather than
   * `auth.signOut()` under a `<RequireAuth>`: the guard then waits for the end-session redirect instead of
   * sending the user, now signed out, to sign in.
   */
  signOut(options?: SignOutOptions): Promise<SignOutResult>;
}

/**
 * What the server renders, and what the browser renders while it hydrates that markup: the client cannot know
 * the session before its storage was read, so both say `loading` and the markup matches.
 */
const SERVER_SNAPSHOT: AuthSnapshot = Object.freeze({ status: 'loading', user: undefined, error: undefined });
const serverSnapshot = (): AuthSnapshot => SERVER_SNAPSHOT;

/** The current path, so that a sign-in started anywhere comes back there (sign-in only runs in browsers). */
const here = (): SignInRedirectOptions => ({
  returnTo: `${location.pathname}${location.search}${location.hash}`,
});

/**
 * The snapshot of one client, read with `useSyncExternalStore` (no tearing in concurrent rendering).
 *
 * @example
 * ```ts
 * const { status } = useAuthSnapshot(auth);
 * ```
 */
export const useAuthSnapshot = (client: GatehouseClient): AuthSnapshot =>
  useSyncExternalStore(client.subscribe, client.getSnapshot, serverSnapshot);

/**
 * Who is signed in, and `signIn`/`signOut`. Re-renders when the client's snapshot changes (sign-in, sign-out,
 * another tab, an ended session); a token renewal of the same user does not re-render. The returned object is
 * the same between changes.
 *
 * @example
 * ```tsx
 * function Profile() {
 *   const { status, user, signIn, signOut } = useAuth();
 *   if (status !== 'signedIn') return <button onClick={() => signIn()}>Sign in</button>;
 *   return <button onClick={() => signOut()}>Sign out {user?.name}</button>;
 * }
 * ```
 */
export function useAuth(): AuthState {
  const client = useGatehouseClient();
  const snapshot = useAuthSnapshot(client);
  return useMemo(
    () => ({
      ...snapshot,
      isAuthenticated: snapshot.status === 'signedIn',
      isLoading: snapshot.status === 'loading',
      signIn: (options?: SignInRedirectOptions) => client.signInRedirect({ ...here(), ...options }),
      signOut: (options?: SignOutOptions) => {
        // The browser leaves for the end-session endpoint; no guard may send it to sign in meanwhile.
        if (options?.endSession !== false) leavingClients.add(client);
        return client.signOut(options).catch((error: unknown) => {
          leavingClients.delete(client);
          throw error;
        });
      },
    }),
    [client, snapshot],
  );
}
