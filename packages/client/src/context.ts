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
 * The names of the entry's helpers that its lazily loaded chunks (sign-out, redirect sign-in) use, in the order of
 * an {@link EntryKit}. Only the chunks import this at runtime.
 */
export const ENTRY_KIT_NAMES = [
  'fill',
  'post',
  'bytes',
  'checkIdToken',
  'decodeJwt',
  'mismatch',
  'endpointUrl',
  'fail',
  'grant',
  'oauthError',
  'okBody',
  'parseObject',
  'send',
  'str',
  'tokenSet',
] as const;

type EntryHelpers = typeof Protocol & typeof IdToken;
type EntryKitNames = typeof ENTRY_KIT_NAMES;

/**
 * The entry's helpers, as the client hands them to a chunk: a chunk imports nothing at runtime from the entry
 * (which would split a shared chunk off it). A tuple in {@link ENTRY_KIT_NAMES} order, not an object, so that the
 * entry ships no property names for it; sign-out takes the first two, redirect sign-in reads it with
 * {@link byName}.
 */
export type EntryKit = HelpersAt<EntryKitNames>;

/** The helpers named by a tuple of names, as a tuple (generic, so that the mapped type maps tuple positions). */
type HelpersAt<Names extends readonly (keyof EntryHelpers)[]> = {
  readonly [I in keyof Names]: EntryHelpers[Names[I]];
};

/** The helpers of an {@link EntryKit} by name. */
export type NamedEntryKit = { readonly [K in EntryKitNames[number]]: EntryHelpers[K] };

/** An {@link EntryKit}'s helpers by name. */
export const byName = (kit: EntryKit): NamedEntryKit =>
  Object.fromEntries(ENTRY_KIT_NAMES.map((name, i) => [name, kit[i]])) as unknown as NamedEntryKit;
