import type { Clock } from './clock.ts';
import type { Endpoints } from './protocol.ts';
import type { Session } from './session.ts';
import type { TokenStorage } from './storage/token-storage.ts';

/** What the sign-in and sign-out flows share with their client. */
export interface ClientContext extends Endpoints {
  issuer: string;
  redirectUri?: string | undefined;
  /** Where the server sends the browser after RP-initiated logout, unless `signOut()` names another place. */
  postLogoutRedirectUri?: string | undefined;
  scope?: string | undefined;
  resource: readonly string[] | undefined;
  clock: Clock;
  session: Session;
  /** Where redirect sign-in transactions wait for the callback, under `${prefix}:txn:${state}`. */
  transactions: TokenStorage;
  prefix: string;
}
