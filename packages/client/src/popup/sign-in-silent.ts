import type { GatehouseClient } from '../client.ts';
import { GatehouseError, InteractionRequiredError } from '../errors.ts';
import type { RedirectCallbackResult, SignInRedirectOptions } from '../redirect-sign-in.ts';
import { redirectOrigin, waitForCallback } from './callback-message.ts';

/**
 * Options of {@link signInSilent}.
 *
 * @example
 * ```ts
 * const options: SignInSilentOptions = { redirectUri: `${location.origin}/popup-callback.html`, timeoutMs: 5_000 };
 * ```
 */
export interface SignInSilentOptions
  extends Pick<SignInRedirectOptions, 'redirectUri' | 'scope' | 'extraParams'> {
  /** How long to wait for the server's answer in the hidden frame. @default 10_000 */
  timeoutMs?: number;
}

/**
 * Asks Gatehouse, in a hidden iframe and without showing anything, whether the user still has a session there
 * (OpenID Connect Core §3.1.2.1 `prompt=none`), and if so signs this client in with it: the same code exchange
 * and checks as `handleRedirectCallback()`, so afterwards `getUser()` and `getAccessToken()` work. The server
 * answers `prompt=none` with a redirect to the callback page (running `handlePopupCallback()`), never with a
 * page of its own, so its `frame-ancestors 'none'` does not get in the way.
 *
 * Browsers that block third-party cookies (Safari, Firefox strict, Chromium's opt-in) and any app on another
 * site than Gatehouse (its session cookie is `SameSite=Lax`) send no session cookie into the frame: the server
 * then answers `login_required`, and this rejects with {@link InteractionRequiredError}, as it does for a user
 * who is signed out. Treat that error as "show the sign-in button".
 *
 * @throws {InteractionRequiredError} `login_required` (no session the frame can see), `consent_required`, or
 * `interaction_required` when no answer came within `timeoutMs`.
 *
 * @example
 * ```ts
 * import { signInSilent } from '@gatehouse/client/popup';
 *
 * await auth.ready;
 * if (!(await auth.isAuthenticated())) {
 *   await signInSilent(auth, { redirectUri: `${location.origin}/popup-callback.html` }).catch((err) => {
 *     if (!(err instanceof InteractionRequiredError)) throw err; // signed out at Gatehouse too
 *   });
 * }
 * ```
 */
export async function signInSilent(
  auth: GatehouseClient,
  options: SignInSilentOptions = {},
): Promise<RedirectCallbackResult> {
  const { timeoutMs = 10_000, ...signIn } = options;
  const frame = document.createElement('iframe');
  frame.hidden = true;
  frame.title = 'Gatehouse session check';
  document.body.append(frame);
  const deadline = Date.now() + timeoutMs;
  try {
    let response: Promise<string> | undefined;
    await auth.signInRedirect({
      ...signIn,
      prompt: 'none',
      navigate: (url) => {
        const origin = redirectOrigin(url);
        if (origin !== location.origin) {
          throw new GatehouseError(
            `the silent sign-in's redirect URI must be on ${location.origin}, not ${origin}`,
            {
              code: 'ERR_CONFIGURATION',
            },
          );
        }
        response = waitForCallback({
          source: () => frame.contentWindow,
          origin,
          giveUp: () =>
            Date.now() > deadline
              ? new InteractionRequiredError(
                  'interaction_required',
                  `no answer from ${new URL(url).origin} in the hidden frame within ${timeoutMs} ms`,
                )
              : undefined,
        });
        frame.src = url;
      },
    });
    return await auth.handleRedirectCallback(await (response as Promise<string>));
  } finally {
    frame.remove();
  }
}
