import type { GatehouseClient } from '../client.ts';
import { GatehouseError } from '../errors.ts';
import type { RedirectCallbackResult, SignInRedirectOptions } from '../redirect-sign-in.ts';
import { redirectOrigin, waitForCallback } from './callback-message.ts';

/**
 * Options of {@link signInPopup}: those of `signInRedirect()` but `navigate`, and the popup's own.
 *
 * @example
 * ```ts
 * const options: SignInPopupOptions = { redirectUri: `${location.origin}/popup-callback.html`, loginHint: 'ada@example.com' };
 * ```
 */
export interface SignInPopupOptions extends Omit<SignInRedirectOptions, 'navigate'> {
  /** `window.open()` features. @default a 500 × 640 window centred over this one */
  popupFeatures?: string;
  /** Give up (and close the popup) after this many ms, with `ERR_POPUP_CLOSED`. @default no limit */
  timeoutMs?: number;
}

const WIDTH = 500;
const HEIGHT = 640;

/**
 * Signs in in a popup: the same authorization code request as `signInRedirect()` (PKCE S256, `state`, `nonce`),
 * and the same checks of the response as `handleRedirectCallback()` (`state` names this sign-in, RFC 9207 `iss`
 * is this issuer, the ID token's signature, `iss`, `aud` and `nonce`); the page the app is on stays loaded.
 * Call it from a click handler: browsers only allow a popup during the user's gesture, so it is opened before
 * anything else happens. The popup's callback page runs `handlePopupCallback()`.
 *
 * @throws {GatehouseError} `ERR_POPUP_BLOCKED` when the browser refused the popup, `ERR_POPUP_CLOSED` when the
 * user closed it before signing in (or `timeoutMs` passed); the errors of `handleRedirectCallback()` otherwise.
 *
 * @example
 * ```ts
 * import { signInPopup } from '@gatehouse/client/popup';
 *
 * button.onclick = async () => {
 *   try {
 *     await signInPopup(auth, { redirectUri: `${location.origin}/popup-callback.html` });
 *   } catch (err) {
 *     if (err instanceof GatehouseError && err.code === 'ERR_POPUP_BLOCKED') await auth.signInRedirect();
 *     else if (!(err instanceof GatehouseError && err.code === 'ERR_POPUP_CLOSED')) throw err;
 *   }
 * };
 * ```
 */
export async function signInPopup(
  auth: GatehouseClient,
  options: SignInPopupOptions = {},
): Promise<RedirectCallbackResult> {
  const { popupFeatures, timeoutMs, ...signIn } = options;
  const left = Math.round(screenX + (outerWidth - WIDTH) / 2);
  const top = Math.round(screenY + (outerHeight - HEIGHT) / 2);
  // Before any await: the user's activation (HTML §6.4.3) only lasts for the click that called us.
  const popup = open(
    'about:blank',
    'gatehouse-sign-in',
    popupFeatures ?? `popup,width=${WIDTH},height=${HEIGHT},left=${left},top=${top}`,
  );
  if (!popup) {
    throw new GatehouseError(
      'the browser blocked the sign-in popup; call signInPopup() from a click handler',
      {
        code: 'ERR_POPUP_BLOCKED',
      },
    );
  }
  const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
  try {
    let response: Promise<string> | undefined;
    await auth.signInRedirect({
      ...signIn,
      navigate: (url) => {
        const origin = redirectOrigin(url);
        if (origin !== location.origin) {
          throw new GatehouseError(`the popup's redirect URI must be on ${location.origin}, not ${origin}`, {
            code: 'ERR_CONFIGURATION',
          });
        }
        response = waitForCallback({
          source: () => popup,
          origin,
          giveUp: () =>
            popup.closed || Date.now() > deadline
              ? new GatehouseError(
                  popup.closed
                    ? 'the sign-in popup was closed before the sign-in completed'
                    : `the sign-in popup did not complete within ${timeoutMs} ms`,
                  { code: 'ERR_POPUP_CLOSED' },
                )
              : undefined,
        });
        popup.location.replace(url);
      },
    });
    // signInRedirect() resolves only after calling navigate, which set `response`.
    return await auth.handleRedirectCallback(await (response as Promise<string>));
  } finally {
    popup.close();
  }
}
