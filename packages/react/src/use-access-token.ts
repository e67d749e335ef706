import type { AccessTokenTarget, GatehouseClientError } from '@gatehouse/client';
import { useCallback, useEffect, useState } from 'react';
import { useGatehouseClient } from './gatehouse-provider.ts';
import { useAuthSnapshot } from './use-auth.ts';

/**
 * What {@link useAccessToken} returns.
 *
 * @example
 * ```ts
 * const { accessToken, error, getAccessToken }: AccessTokenState = useAccessToken();
 * ```
 */
export interface AccessTokenState {
  /** The current token for the API, `undefined` while signed out, loading, or after `error`. */
  readonly accessToken: string | undefined;
  /** Why the last attempt failed (network, timeout, an ended session); the next renewal clears it. */
  readonly error: GatehouseClientError | undefined;
  /**
   * A token valid right now, for calls made later (in an event handler): `accessToken` is the one of the last
   * render and may have expired since.
   */
  getAccessToken(): Promise<string>;
}

type TokenResult = Pick<AccessTokenState, 'accessToken' | 'error'>;
const NONE: TokenResult = { accessToken: undefined, error: undefined };
/** Keeps the last object while nothing changed: another API's renewal re-renders nobody here. */
const unlessSame =
  (next: TokenResult) =>
  (last: TokenResult): TokenResult =>
    last.accessToken === next.accessToken && last.error === next.error ? last : next;

/**
 * An access token for the client's default API, or for another API (`resource`) or a narrower `scope`
 * consented to at sign-in. Asks the client only while signed in and in effects (never while rendering, never
 * on the server), and again after each renewal, which the client does on its own before expiry; every caller
 * shares the client's one renewal.
 *
 * @example
 * ```tsx
 * function Notes() {
 *   const { accessToken } = useAccessToken({ resource: 'https://notes.example.com', scope: 'notes:read' });
 *   return accessToken ? <NotesList token={accessToken} /> : null;
 * }
 * ```
 */
export function useAccessToken(options?: AccessTokenTarget): AccessTokenState {
  const client = useGatehouseClient();
  const { status } = useAuthSnapshot(client);
  const resource = options?.resource;
  const scope = options?.scope;
  const [state, setState] = useState<TokenResult>(NONE);
  const getAccessToken = useCallback(
    () => client.getAccessToken({ ...(resource && { resource }), ...(scope && { scope }) }),
    [client, resource, scope],
  );

  useEffect(() => {
    if (status !== 'signedIn') {
      setState(unlessSame(NONE));
      return;
    }
    let current = true;
    const read = (): void => {
      getAccessToken().then(
        (accessToken) => current && setState(unlessSame({ accessToken, error: undefined })),
        // The client rejects with its own errors only (GatehouseClientError).
        (error: GatehouseClientError) => current && setState(unlessSame({ accessToken: undefined, error })),
      );
    };
    read();
    const stop = client.on('tokensChanged', (tokens) => tokens && read());
    return () => {
      current = false;
      stop();
    };
  }, [client, status, getAccessToken]);

  return { ...state, getAccessToken };
}
