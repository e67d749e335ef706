/**
 * The message a popup or silent-iframe callback page sends to the window that started the sign-in: the URL the
 * authorization server redirected to, carrying `code`, `state` and `iss` (or `error`).
 */
export interface CallbackMessage {
  gatehouseCallback: string;
}

/** What {@link waitForCallback} listens to and when it gives up. */
export interface CallbackWait {
  /** The window the response must come from: the popup, or the iframe's content window. */
  source: () => Window | null | undefined;
  /** The origin of the redirect URI; a message from any other origin is ignored. */
  origin: string;
  /**
   * Rejects with this error when it returns one (checked every 250 ms): the popup was closed, time ran out. A
   * message that arrives within {@link CALLBACK_GRACE_MS} after that still wins.
   */
  giveUp: () => Error | undefined;
}

/**
 * How long {@link waitForCallback} still listens after `giveUp` returned an error. The callback page posts its
 * message and then closes the popup, but the two reach this window by different paths: where the popup runs in
 * a process of its own (a browser that keeps origins apart), `popup.closed` can turn true before the message is
 * delivered, and a check in between would call a completed sign-in closed.
 */
const CALLBACK_GRACE_MS = 1_000;

/**
 * Resolves with the callback URL that `source` posts (see `handlePopupCallback()`), or rejects with the error
 * `giveUp` returns first. The listener is removed either way.
 *
 * @example
 * ```ts
 * const url = await waitForCallback({ source: () => popup, origin: location.origin, giveUp: () => undefined });
 * ```
 */
export function waitForCallback(wait: CallbackWait): Promise<string> {
  return new Promise((resolve, reject) => {
    // HTML §9.3.3 postMessage: `origin` and `source` are set by the browser, so they cannot be forged by a page.
    const receive = ({ data, origin, source }: MessageEvent<Partial<CallbackMessage> | null>) => {
      const url = data?.gatehouseCallback;
      if (origin !== wait.origin || source !== wait.source() || typeof url !== 'string') return;
      done();
      resolve(url);
    };
    let grace: ReturnType<typeof setTimeout> | undefined;
    const done = () => {
      removeEventListener('message', receive);
      clearInterval(poll);
      clearTimeout(grace);
    };
    const poll = setInterval(() => {
      const error = wait.giveUp();
      if (!error) return;
      clearInterval(poll);
      grace = setTimeout(() => {
        done();
        reject(error);
      }, CALLBACK_GRACE_MS);
    }, 250);
    addEventListener('message', receive);
  });
}

/**
 * The origin that `url`'s `redirect_uri` parameter names; it must be this page's, since the callback page
 * posts the response only to a window of its own origin.
 */
export function redirectOrigin(authorizationUrl: string): string | undefined {
  const redirectUri = new URL(authorizationUrl).searchParams.get('redirect_uri');
  return redirectUri ? new URL(redirectUri).origin : undefined;
}
