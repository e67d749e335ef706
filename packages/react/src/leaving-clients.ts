/**
 * Clients whose page is on its way out: to the sign-in page, or to the end-session endpoint after a sign-out.
 * A guard must not start a navigation of its own meanwhile: Strict Mode runs its effect twice, and a sign-out
 * makes the user `signedOut` before the browser leaves, so a sign-in redirect would race the end-session one.
 */
export const leavingClients = new WeakSet<object>();
