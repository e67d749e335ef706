import type { CallbackMessage } from './callback-message.ts';

/**
 * The whole script of the page a popup or silent sign-in redirects to: it hands the URL (with `code`, `state`,
 * `iss`, or `error`) to the window that started the sign-in, which validates it and exchanges the code, and
 * closes the popup. It posts only to a window of its own origin and exchanges nothing itself. Returns `false`
 * when this page is neither a popup nor a frame, i.e. a redirect sign-in landed here.
 *
 * Give popup and silent sign-in a callback page of their own (`redirectUri` option, registered at Gatehouse):
 * a page that also serves redirect sign-ins cannot tell a popup from a tab another tab of the app opened.
 *
 * @example
 * ```ts
 * // popup-callback.html: <script type="module">import { handlePopupCallback } from '@gatehouse/client/popup'; handlePopupCallback();</script>
 * import { handlePopupCallback } from '@gatehouse/client/popup';
 * handlePopupCallback();
 * ```
 */
export function handlePopupCallback(): boolean {
  const opener = window.opener as Window | null;
  const target = opener ?? (window.parent === window ? undefined : window.parent);
  if (!target) return false;
  const message: CallbackMessage = { gatehouseCallback: location.href };
  target.postMessage(message, location.origin);
  if (opener) window.close();
  return true;
}
