export type { CallbackMessage } from './callback-message.ts';
export { handlePopupCallback } from './handle-popup-callback.ts';
export { type SignInPopupOptions, signInPopup } from './sign-in-popup.ts';
export { type SignInSilentOptions, signInSilent } from './sign-in-silent.ts';
