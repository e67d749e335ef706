import type { Clock } from './clock.ts';
import type * as IdToken from './id-token.ts';
import type * as Protocol from './protocol.ts';
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

/**
 * The entry's helpers that its lazily loaded chunks (sign-out, redirect sign-in) use: the client hands them over,
 * so a chunk imports nothing at runtime from the entry (which would split a shared chunk off it). A tuple, not an
 * object, so that the entry ships no property names for it; sign-out takes the first two.
 */
export type EntryKit = readonly [
  fill: typeof Protocol.fill,
  post: typeof Protocol.post,
  bytes: typeof IdToken.bytes,
  checkIdToken: typeof IdToken.checkIdToken,
  decodeJwt: typeof IdToken.decodeJwt,
  mismatch: typeof IdToken.mismatch,
  endpointUrl: typeof Protocol.endpointUrl,
  fail: typeof Protocol.fail,
  grant: typeof Protocol.grant,
  oauthError: typeof Protocol.oauthError,
  okBody: typeof Protocol.okBody,
  parseObject: typeof Protocol.parseObject,
  send: typeof Protocol.send,
  str: typeof Protocol.str,
  tokenSet: typeof Protocol.tokenSet,
];
