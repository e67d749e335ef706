import type { KyInstance, Options as KyOptions } from 'ky';
import { createAuthenticatedHttp } from './authenticated-http.ts';
import type { ClientContext } from './client-context.ts';
import { clientEndpoint } from './client-context.ts';
import { runClientCredentialsSignIn } from './client-credentials-sign-in.ts';
import { type Clock, systemClock } from './clock.ts';
import { type DeviceSignInOptions, runDeviceSignIn } from './device-sign-in.ts';
import { type AuthorizationServerMetadata, discoverAuthorizationServer } from './discovery.ts';
import { GatehouseError } from './errors.ts';
import { GatehouseEventEmitter, type GatehouseEvents, type GatehouseListener } from './events.ts';
import type { Transport } from './http-transport.ts';
import {
  completeRedirectSignIn,
  type RedirectCallbackResult,
  type SignInRedirectOptions,
  startRedirectSignIn,
} from './redirect-sign-in.ts';
import { type RefreshLock, webLock } from './refresh-lock.ts';
import { type SignOutOptions, type SignOutResult, signOutSession } from './sign-out.ts';
import { browserStorage } from './storage/browser-storage.ts';
import { memoryStorage } from './storage/memory-storage.ts';
import type { TokenStorage } from './storage/token-storage.ts';
import { TokenRefresher } from './token-refresher.ts';
import { clientCredentialsGrantRequest, refreshTokenGrantRequest } from './token-request.ts';
import type { TokenSet } from './token-set.ts';
import { TokenStore } from './token-store.ts';

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
  /** RFC 8707 resource indicator(s): the API(s) the access token is for. */
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
  /** Confidential clients only (Node services, CLIs you trust): authenticates with `client_secret_basic`. */
  clientSecret?: string;
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
  /** RFC 8628 device authorization grant, for CLIs and devices without a browser. */
  signInWithDeviceCode(options: DeviceSignInOptions): Promise<TokenSet>;
  /** RFC 6749 §4.4 client credentials grant, for confidential services; renews itself the same way. */
  signInWithClientCredentials(options?: { scope?: string }): Promise<TokenSet>;
  /** A valid access token, from memory or from the one renewal shared by every caller. */
  getAccessToken(): Promise<string>;
  /** The current tokens (after start-up has read storage), or `undefined` when signed out. */
  getTokens(): Promise<TokenSet | undefined>;
  /** ky with `Authorization: Bearer`, one renewal and one retry on 401 `invalid_token`. */
  readonly http: KyInstance;
  /** Revokes the refresh token, clears storage and other tabs, RP-initiated logout in browsers. */
  signOut(options?: SignOutOptions): Promise<SignOutResult>;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof GatehouseEvents>(event: E, listener: GatehouseListener<E>): () => void;
  /** Stops timers and cross-tab listening. The client should not be used afterwards. */
  close(): void;
}

function toList(resource: string | readonly string[] | undefined): readonly string[] | undefined {
  if (resource === undefined) return undefined;
  return typeof resource === 'string' ? [resource] : resource;
}

const isBrowser = () => typeof globalThis.document !== 'undefined';

/**
 * Creates a client. Never throws because of what storage holds: stale or corrupted values read as "signed
 * out", and an already expired access token is renewed in the background (or on first use).
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
export function createGatehouseClient(options: GatehouseClientOptions): GatehouseClient {
  if (!options.issuer || !options.clientId) {
    throw new GatehouseError('createGatehouseClient needs issuer and clientId', {
      code: 'ERR_CONFIGURATION',
    });
  }
  const clock = options.clock ?? systemClock;
  const fetchFn =
    options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const transport: Transport = { fetch: fetchFn, timeoutMs: options.requestTimeoutMs ?? 10_000 };
  const prefix = options.storageKey ?? `gatehouse:${options.issuer}:${options.clientId}`;
  const storage = options.storage ?? memoryStorage();
  const transactions = options.transactionStorage ?? (isBrowser() ? browserStorage('session') : storage);
  const store = new TokenStore(storage, prefix, transactions);
  const events = new GatehouseEventEmitter();
  const resource = toList(options.resource);

  let discovery: Promise<AuthorizationServerMetadata> | undefined;
  const metadata = () => {
    discovery ??= discoverAuthorizationServer(options.issuer, transport).catch((error: unknown) => {
      discovery = undefined; // a failed discovery is retried on the next call
      throw error;
    });
    return discovery;
  };

  const context: ClientContext = {
    issuer: options.issuer,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    redirectUri: options.redirectUri,
    scope: options.scope,
    resource,
    transport,
    clock,
    store,
    metadata,
    // Assigned right below; the flows only use it after construction.
    refresher: undefined as unknown as TokenRefresher,
  };

  const refresher = new TokenRefresher({
    store,
    lock: options.lock ?? webLock(),
    lockName: `gatehouse-refresh:${prefix}`,
    clock,
    events,
    crossTabChannel: (options.crossTab ?? isBrowser()) ? prefix : undefined,
    autoRefresh: options.autoRefresh ?? true,
    expiryMarginMs: 10_000,
    renew: async (tokens) => {
      const endpoint = await clientEndpoint(context, 'token_endpoint');
      if (tokens.refreshToken)
        return refreshTokenGrantRequest(endpoint, { refreshToken: tokens.refreshToken, resource });
      return clientCredentialsGrantRequest(endpoint, { scope: tokens.scope ?? options.scope, resource });
    },
  });
  context.refresher = refresher;

  const http = createAuthenticatedHttp({
    getAccessToken: () => refresher.getAccessToken(),
    currentAccessToken: () => refresher.currentAccessToken(),
    refresh: (stale) => refresher.refresh(stale),
    apiOrigins: options.apiOrigins,
    kyOptions: options.http,
    fetch: fetchFn,
  });

  return {
    signInRedirect: (signInOptions) => startRedirectSignIn(context, signInOptions),
    handleRedirectCallback: (url) => completeRedirectSignIn(context, url),
    signInWithDeviceCode: (deviceOptions) => runDeviceSignIn(context, deviceOptions),
    signInWithClientCredentials: (credentialsOptions = {}) =>
      runClientCredentialsSignIn(context, credentialsOptions),
    getAccessToken: () => refresher.getAccessToken(),
    getTokens: () => refresher.tokens(),
    http,
    async signOut(signOutOptions = {}) {
      const result = await signOutSession(context, {
        postLogoutRedirectUri: options.postLogoutRedirectUri,
        ...signOutOptions,
      });
      events.emit('signedOut', undefined);
      return result;
    },
    on: (event, listener) => events.on(event, listener),
    close: () => refresher.close(),
  };
}
