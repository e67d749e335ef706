import type { KyInstance, Options as KyOptions } from 'ky';
import type { AuthSnapshot } from './auth-state.ts';
import { createAuthenticatedHttp } from './authenticated-http.ts';
import { type Clock, systemClock } from './clock.ts';
import type { ClientContext, EntryKit } from './context.ts';
import type { DpopKeyStore } from './dpop/dpop-keys.ts';
import { lazyDpopFetch } from './dpop/lazy-dpop-fetch.ts';
import { NetworkError } from './errors.ts';
import type { GatehouseEvents, GatehouseListener } from './events.ts';
import { bytes, checkIdToken, decodeJwt, type GatehouseUser, mismatch } from './id-token.ts';
import {
  type AuthorizationServerMetadata,
  discover,
  endpointUrl,
  fail,
  fill,
  grant,
  oauthError,
  okBody,
  parseObject,
  post,
  send,
  str,
  tokenSet,
} from './protocol.ts';
import type { RedirectCallbackResult, SignInRedirectOptions } from './redirect-sign-in.ts';
import type { RefreshLock } from './refresh-lock.ts';
import { createSession } from './session.ts';
import type { SignOutOptions, SignOutResult } from './sign-out.ts';
import { browserStorage } from './storage/browser-storage.ts';
import { memoryStorage } from './storage/memory-storage.ts';
import type { TokenStorage } from './storage/token-storage.ts';
import type { AccessTokenTarget, TokenSet } from './token-set.ts';

/**
 * Options of {@link createGatehouseClient}.
 *
 * @example
 * ```ts
 * const options: GatehouseClientOptions = {
 *   issuer: 'https://id.example.com',
 *   clientId: 'demo-spa',
 *   redirectUri: `${location.origin}/callback`,
 *   scope: 'openid profile recipes:read',
 *   resource: 'https://api.example.com',
 * };
 * ```
 */
export interface GatehouseClientOptions {
  /** The issuer identifier; discovery must return exactly this string as `issuer`. */
  issuer: string;
  clientId: string;
  /** Registered redirect URI, needed by `signInRedirect()`. */
  redirectUri?: string;
  /** Where the server sends the browser after RP-initiated logout. */
  postLogoutRedirectUri?: string;
  /**
   * Space-separated scopes to request.
   * @default 'openid' for redirect sign-in; none for client credentials and device flow
   */
  scope?: string;
  /**
   * RFC 8707 resource indicator(s): the APIs the user consents to at sign-in. The first is the default API
   * of `getAccessToken()` and `auth.http`; the others get their own token from the same refresh token with
   * `getAccessToken({ resource })` or `auth.http.get(url, { context: { resource } })`.
   */
  resource?: string | readonly string[];
  /**
   * Where tokens live.
   * @default memoryStorage()
   */
  storage?: TokenStorage;
  /**
   * Where redirect sign-in transactions (PKCE verifier, nonce) wait for the callback.
   * @default browserStorage('session') in browsers, else `storage`
   */
  transactionStorage?: TokenStorage;
  /**
   * Confidential clients only (Node services, CLIs you trust): authenticates with `client_secret_basic`.
   * `undefined` (an unset environment variable) means a public client.
   */
  clientSecret?: string | undefined;
  /** Serialises renewals across clients sharing `storage`. @default webLock() where available */
  lock?: RefreshLock;
  /** Share tokens and sign-outs between tabs over BroadcastChannel. @default true in browsers */
  crossTab?: boolean;
  /** Refresh a little before expiry, and on `visibilitychange`/`online`. @default true */
  autoRefresh?: boolean;
  /** `auth.http` only sends the token to these origins. @default every request */
  apiOrigins?: readonly string[];
  /** Extra ky options for `auth.http` (`prefix`, `timeout`, `retry`, hooks …). */
  http?: KyOptions;
  /** Timeout of each request to the authorization server, in ms. @default 10_000 */
  requestTimeoutMs?: number;
  /** Key prefix in storage. @default `gatehouse:<issuer>:<clientId>` */
  storageKey?: string;
  fetch?: typeof fetch;
  /**
   * RFC 9449 DPoP: tokens bound to a P-256 key of this client, so a stolen refresh or access token is useless
   * without it. Every token request and every `auth.http` call to `apiOrigins` carries a proof; the key stays
   * in IndexedDB in browsers (non-extractable, shared by the origin's tabs), in memory in Node, or beside the
   * tokens with `fileStorage()`. The code loads on first use, as a chunk of its own.
   * @see https://www.rfc-editor.org/rfc/rfc9449
   * @default false
   */
  dpop?: boolean;
  /** Replace in tests to move time instead of sleeping. */
  clock?: Clock;
}

/**
 * A Gatehouse client: sign-in flows, an always-valid access token, an authenticated ky instance.
 *
 * @example
 * ```ts
 * const auth: GatehouseClient = createGatehouseClient({ issuer, clientId: 'demo-spa', redirectUri });
 * const recipes = await auth.http.get('https://api.example.com/me/recipes').json();
 * ```
 */
export interface GatehouseClient {
  /** Browser: redirects to the authorization endpoint (PKCE S256, state, nonce). */
  signInRedirect(options?: SignInRedirectOptions): Promise<void>;
  /** Completes a redirect sign-in from the callback URL (default `location.href`). */
  handleRedirectCallback(url?: string): Promise<RedirectCallbackResult>;
  /**
   * A valid access token, from memory or from the one renewal shared by every caller: for the default API, or
   * for `target` (another API consented to at sign-in, or a narrower scope), cached per target. Renewals of all
   * targets run one after another, in this tab and across tabs, since each rotates the refresh token.
   */
  getAccessToken(target?: AccessTokenTarget): Promise<string>;
  /** The signed-in user's ID token claims (validated at sign-in), after `ready`; `undefined` when signed out. */
  getUser<T extends GatehouseUser = GatehouseUser>(): Promise<T | undefined>;
  /** Whether a session exists (after `ready`): tokens that are valid or can be renewed. */
  isAuthenticated(): Promise<boolean>;
  /**
   * Settles once: the stored session was read and, if its access token had expired, renewed (or found to be
   * over). Render after it and the UI never flashes "signed out" for a signed-in user.
   */
  readonly ready: Promise<void>;
  /** The current {@link AuthSnapshot}: the same object until something changes (`useSyncExternalStore`). */
  getSnapshot(): AuthSnapshot;
  /** Calls `listener` after each change of the snapshot, here or from another tab; returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
  /** The current tokens, or `undefined` when signed out; waits for start-up and for a renewal in flight. */
  getTokens(): Promise<TokenSet | undefined>;
  /** ky with `Authorization: Bearer`, one renewal and one retry on 401 `invalid_token`. */
  readonly http: KyInstance;
  /**
   * Revokes the refresh token, clears storage and other tabs, deletes the DPoP key, RP-initiated logout in browsers.
   * Its code loads on first use (a chunk of its own); if that fails, the session still ends here and in other tabs
   * and the result's `revocationError` is a `NetworkError`.
   */
  signOut(options?: SignOutOptions): Promise<SignOutResult>;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof GatehouseEvents>(event: E, listener: GatehouseListener<E>): () => void;
  /** Stops timers and cross-tab listening. The client should not be used afterwards. */
  close(): void;
}

/** What the sign-in and sign-out chunks take from this entry (see {@link EntryKit}). */
const kit: EntryKit = [
  fill,
  post,
  bytes,
  checkIdToken,
  decodeJwt,
  mismatch,
  endpointUrl,
  fail,
  grant,
  oauthError,
  okBody,
  parseObject,
  send,
  str,
  tokenSet,
];

/**
 * Builds a client and the context its flows share; `@gatehouse/client/node` adds the Node-only flows to it.
 *
 * @example
 * ```ts
 * const [auth, context] = createClient({ issuer, clientId: 'demo-cli' });
 * ```
 * `dpopKeys`: where the DPoP key lives when not in the default place (Node's `fileStorage()` keeps it beside
 * the tokens, mode 0600); given the storage prefix, which names the key.
 */
export function createClient(
  options: GatehouseClientOptions,
  dpopKeys?: (name: string) => DpopKeyStore,
): [GatehouseClient, ClientContext] {
  const { issuer, clientId } = options;
  if (!issuer || !clientId) fail('issuer and clientId required', 'ERR_CONFIGURATION');
  const prefix = options.storageKey ?? `gatehouse:${issuer}:${clientId}`;
  const baseFetch = options.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  const fetchFn = options.dpop
    ? lazyDpopFetch(baseFetch, prefix, () => context.metadata(), dpopKeys?.(prefix))
    : baseFetch;
  const storage = options.storage ?? memoryStorage();
  const clock = options.clock ?? systemClock;
  const resource = [options.resource ?? []].flat();

  let discovery: Promise<AuthorizationServerMetadata> | undefined;
  // The session takes `lock`, `crossTab` and `autoRefresh` from the options as they are, and defaults them.
  const session = createSession({
    ...options,
    storage,
    prefix,
    clock,
    renew: async (tokens, target) => {
      const response = await grant(
        context,
        tokens.refreshToken
          ? { grant_type: 'refresh_token', refresh_token: tokens.refreshToken, scope: target?.scope }
          : { grant_type: 'client_credentials', scope: target?.scope ?? tokens.scope ?? options.scope },
        // RFC 8707 §2.2: one audience per token request; the sign-in asked for all of them.
        target?.resource ? [target.resource] : resource.slice(0, 1),
      );
      if (response.id_token) {
        // OpenID Connect Core §12.2: the same user, from the same issuer, for this client. It comes straight
        // from the token endpoint over TLS, which §3.1.3.7 step 6 accepts in place of the signature: the JWKS
        // and signature check stay in the sign-in chunk, which a page that only renews never loads.
        await checkIdToken(context, response.id_token, tokens.idToken);
      }
      return response;
    },
  });
  // RFC 8707 §2.2: a refresh may only name an API the sign-in asked for; the server would refuse any other
  // with invalid_target, after spending the refresh token.
  const getAccessToken = async (target?: AccessTokenTarget): Promise<string> =>
    target?.resource && !resource.includes(target.resource)
      ? fail(
          `resource ${target.resource} is not one the sign-in asked for: ${resource.join(', ')}`,
          'ERR_CONFIGURATION',
        )
      : session.getAccessToken(target);
  const context: ClientContext = {
    ...options,
    resource,
    fetch: fetchFn,
    timeoutMs: options.requestTimeoutMs ?? 10_000,
    clock,
    session,
    transactions: options.transactionStorage ?? (globalThis.document ? browserStorage('session') : storage),
    prefix,
    metadata: () =>
      (discovery ??= discover(issuer, context).catch((error: unknown) => {
        discovery = undefined; // a failed discovery is retried on the next call
        throw error;
      })),
  };

  // Redirect sign-in is a chunk of its own: pages that only use the session never download it. A chunk that
  // failed to load (offline) is tried again on the next call.
  let signInChunk: Promise<typeof import('./redirect-sign-in.ts')> | undefined;
  const signIn = () =>
    (signInChunk ??= import('./redirect-sign-in.ts').catch((cause: unknown) => {
      signInChunk = undefined;
      throw new NetworkError('the sign-in code did not load', { cause });
    }));

  const client: GatehouseClient = {
    signInRedirect: async (signInOptions) => (await signIn()).signInRedirect(kit, context, signInOptions),
    // A chunk of its own (with the ID token's signature check): only the callback page downloads it.
    handleRedirectCallback: async (url) => (await signIn()).handleRedirectCallback(kit, context, url),
    getAccessToken,
    getUser: (async () => {
      await session.ready;
      return session.getSnapshot().user;
    }) as GatehouseClient['getUser'],
    isAuthenticated: async () => !!(await session.tokens()),
    ready: session.ready,
    getSnapshot: session.getSnapshot,
    subscribe: session.subscribe,
    getTokens: session.tokens,
    // The options' `apiOrigins` and `http`, the session's `refresh`.
    http: createAuthenticatedHttp({ ...options, ...session, getAccessToken, fetch: fetchFn }),
    // A chunk of its own too. Signing out on this device never depends on it: when the chunk does not load
    // (offline), the session still ends here and in other tabs, and the result says the revocation failed.
    signOut: (signOutOptions) =>
      import('./sign-out.ts').then(
        (chunk) => chunk.signOut(kit, context, signOutOptions),
        async (cause: unknown) => {
          await session.clear('signedOut');
          return {
            revoked: false,
            revocationError: new NetworkError('the sign-out code did not load', { cause }),
          };
        },
      ),
    on: session.on,
    close: session.close,
  };
  return [client, context];
}

/**
 * Creates a client for browsers and Node: redirect sign-in, an always-valid access token, an authenticated ky
 * instance, sign-out. Never throws because of what storage holds: stale or corrupted values read as "signed
 * out", and an already expired access token is renewed in the background (or on first use). The device flow
 * and client credentials come with `createGatehouseClient` from `@gatehouse/client/node`.
 *
 * @example
 * ```ts
 * import { createGatehouseClient, hybridStorage } from '@gatehouse/client';
 *
 * const auth = createGatehouseClient({
 *   issuer: 'https://id.example.com',
 *   clientId: 'demo-spa',
 *   redirectUri: `${location.origin}/callback`,
 *   scope: 'openid recipes:read',
 *   storage: hybridStorage(),
 * });
 * if (location.pathname === '/callback') await auth.handleRedirectCallback();
 * auth.on('sessionExpired', () => auth.signInRedirect());
 * const me = await auth.http.get('https://api.example.com/me').json();
 * ```
 */
export const createGatehouseClient = (options: GatehouseClientOptions): GatehouseClient =>
  createClient(options)[0];
