import type { SignInRedirectOptions } from '@gatehouse/client';
import { createElement, Fragment, type ReactNode, useEffect, useRef, useState } from 'react';
import { useGatehouseClient } from './gatehouse-provider.ts';
import { handleRedirectCallbackOnce, isRedirectCallback } from './handle-redirect-callback-once.ts';
import { leavingClients } from './leaving-clients.ts';
import { useAuthSnapshot } from './use-auth.ts';

/**
 * Props of {@link RequireAuth}.
 *
 * @example
 * ```ts
 * const props: RequireAuthProps = { callbackPath: '/auth/callback', fallback: 'Loading…' };
 * ```
 */
export interface RequireAuthProps {
  /** Rendered once the user is signed in. */
  children?: ReactNode;
  /** Rendered while the session is read, the callback exchanged, or the browser leaves for sign-in. */
  fallback?: ReactNode;
  /**
   * The path of the client's `redirectUri`: there, an authorization response is exchanged instead of
   * starting another sign-in. @default '/callback'
   */
  callbackPath?: string;
  /** Passed to `signInRedirect()`; `returnTo` defaults to the current path, query and fragment. */
  signInOptions?: SignInRedirectOptions;
  /**
   * After a successful callback: leave the callback URL (its `code` and `state` are spent, so a reload must
   * not see them again). A router passes its own `navigate(returnTo ?? '/', { replace: true })`.
   * @default history.replaceState to `returnTo`, or '/'
   */
  onRedirectCallback?: (returnTo: string | undefined) => void;
  /** Rendered when the callback or the sign-in redirect failed (a stale link, `access_denied`, offline). */
  renderError?: (error: Error) => ReactNode;
}

const leaveCallback = (returnTo: string | undefined): void => history.replaceState(null, '', returnTo ?? '/');
const showError = (error: Error): ReactNode => createElement('p', { role: 'alert' }, error.message);

/**
 * Renders `children` for a signed-in user only. A signed-out user is sent to sign in (and comes back where
 * they were); on `callbackPath` the authorization response is exchanged exactly once, also under Strict Mode,
 * and the address bar leaves the callback URL. When the server ended the session, the one tab the client
 * picks is sent to sign in (`signInRequired`); the others show `fallback` until that sign-in completes.
 * Everything happens in effects: on the server, and while hydrating, it renders `fallback`.
 *
 * @example
 * ```tsx
 * <RequireAuth fallback={<p>Loading…</p>}>
 *   <Recipes />
 * </RequireAuth>
 * ```
 */
export function RequireAuth(props: RequireAuthProps): ReactNode {
  const client = useGatehouseClient();
  const { status } = useAuthSnapshot(client);
  const [error, setError] = useState<Error>();
  // The latest props for the effects, which must not run again because a caller passed a new object.
  const latest = useRef(props);
  useEffect(() => {
    latest.current = props;
  });
  const callbackPath = props.callbackPath ?? '/callback';

  useEffect(() => {
    const signIn = (): void => {
      if (leavingClients.has(client)) return;
      leavingClients.add(client);
      const here = `${location.pathname}${location.search}${location.hash}`;
      client
        .signInRedirect({ returnTo: here, ...latest.current.signInOptions })
        .catch(setError)
        .finally(() => leavingClients.delete(client));
    };
    // Exactly one tab is told when the server ended the session; it signs in for all of them.
    const stop = client.on('signInRequired', signIn);
    let current = true;
    if (error) {
      // Shown until the user does something: signing in again right away could loop (access_denied).
    } else if (isRedirectCallback(callbackPath)) {
      handleRedirectCallbackOnce(client, location.href).then(
        ({ returnTo }) => current && (latest.current.onRedirectCallback ?? leaveCallback)(returnTo),
        (failure: Error) => {
          if (!current) return;
          leaveCallback(undefined); // a reload must not show the spent callback again
          setError(failure);
        },
      );
    } else if (status === 'signedOut') signIn();
    return () => {
      current = false;
      stop();
    };
  }, [client, status, error, callbackPath]);

  if (error) return (props.renderError ?? showError)(error);
  return createElement(Fragment, null, status === 'signedIn' ? props.children : props.fallback);
}
