import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RevocationSource } from '@gatehouse/resource/revocation-contract';
import type Koa from 'koa';
import compose from 'koa-compose';
import type Provider from 'oidc-provider';
import type { ClientMetadata } from 'oidc-provider';
import { type AccountStore, createMailer, type Mailer } from './accounts/index.ts';
import type { MailLog } from './accounts/mailer.ts';
import { createApp } from './app.ts';
import { validateClients } from './clients/clients-file.ts';
import type { Config } from './config/config.ts';
import { resolveSecret } from './config/secret.ts';
import { type RequestTimeouts, timedServerOptions } from './http/request-timeouts.ts';
import { OIDC_SCOPES } from './oidc-provider/configuration.ts';
import { ProviderHost } from './oidc-provider/provider-host.ts';
import {
  createInteractionPolicy,
  createPageRoutes,
  createProviderPages,
  createRememberedConsent,
  type InteractionDeps,
  type PageLog,
} from './pages/index.ts';
import { providerFormLimit } from './pages/provider-form-limit.ts';
import { anonymousSessionLimit } from './security/anonymous-session-limit.ts';
import { authorizationRequestLimit } from './security/authorization-request-limit.ts';
import { guessThrottles } from './security/guess-throttles.ts';
import { clientAuthThrottle, type RateLimiter } from './security/index.ts';
import { publicClientLimits } from './security/public-client-limits.ts';
import { deriveCookieKeys, deriveDpopNonceSecret } from './signing-keys/index.ts';
import { type ActiveKeySet, SigningKeyWatcher } from './signing-keys/signing-key-watcher.ts';
import { createStore, type Store, TokenAlreadyConsumedError } from './store/index.ts';
import { ReadAhead } from './store/read-ahead.ts';
import { FORM_ENDPOINTS, formEndpointGuard } from './tokens/form-endpoint-guard.ts';
import { createJwtIntrospectionRevocation } from './tokens/jwt-introspection-revocation.ts';
import { SuccessorLinks } from './tokens/refresh-reuse.ts';
import { createTokenPolicies, stateOf } from './tokens/token-policies.ts';

export interface GatehouseOptions {
  /** Clients known at start (the clients file, seeded demo clients). */
  readonly clients?: readonly ClientMetadata[];
  /** Receives page, mail and security events; silent when omitted. */
  readonly log?: PageLog & MailLog;
  readonly onError?: (err: unknown) => void;
  /** Seconds between checks for rotated signing keys. */
  readonly keyPollSeconds?: number;
  /**
   * Middleware that runs first, around everything (request logging, metrics, request ids).
   * They see every request, including the ones oidc-provider answers.
   */
  readonly outerMiddleware?: readonly Koa.Middleware[];
  /** Called with every oidc-provider instance created (at start and on key rotation), to attach event listeners. */
  readonly onProviderCreated?: (provider: Provider) => void;
  /** Sign-in failures and lockouts from the pages. */
  readonly onSecurityEvent?: InteractionDeps['onSecurityEvent'];
  /** Called with the key set at start and whenever the published set or signing key changes. */
  readonly onSigningKeysChanged?: (keys: ActiveKeySet) => void;
  /** How long a client may take to send a request; `REQUEST_TIMEOUTS` unless a test needs shorter. */
  readonly requestTimeouts?: RequestTimeouts;
}

export interface GatehouseServer {
  readonly config: Config;
  readonly app: Koa;
  readonly host: ProviderHost;
  readonly store: Store;
  readonly keys: SigningKeyWatcher;
  readonly accounts: AccountStore;
  readonly limiter: RateLimiter;
  readonly mailer: Mailer;
  /**
   * This instance's revocations when it runs on the in-process store, for a resource verifier in
   * the same process (`createAccessTokenVerifier({ revocations })`); `undefined` with Redis, where
   * verifiers subscribe through Redis. Another server instance never sees these.
   */
  readonly revocations: RevocationSource | undefined;
  /** Revokes a grant and everything issued from it; resource servers are told. */
  revokeGrant(grantId: string): Promise<void>;
  /** Listens on `port` (default: config.port; 0 for a free one). */
  listen(port?: number): Promise<{ server: Server; url: string }>;
  /**
   * Starts shutting down: `/readyz` answers 503 `shutting down` from now on while everything else is served
   * as before, so a load balancer takes this instance out before `close()`.
   */
  drain(): void;
  /** Stops accepting, lets in-flight requests finish, closes Redis. */
  close(): Promise<void>;
}

const silentLog: PageLog & MailLog = { info: () => {}, warn: () => {}, error: () => {} };

/** Builds a Gatehouse server: store, signing keys, oidc-provider and the Koa app around it. */
export async function createGatehouseServer(
  config: Config,
  options: GatehouseOptions = {},
): Promise<GatehouseServer> {
  const secret = await resolveSecret(config);
  const store = await createStore(config, options.onError ? { onConnectionError: options.onError } : {});
  try {
    return await assemble(config, options, secret, store);
  } catch (err) {
    await store.close();
    throw err;
  }
}

async function assemble(
  config: Config,
  options: GatehouseOptions,
  secret: string,
  store: Store,
): Promise<GatehouseServer> {
  const grants = new store.Adapter('Grant');
  const { accounts, limiter } = store;
  const log = options.log ?? silentLog;
  const mailer = createMailer(config, log);
  const revokeGrant = (grantId: string) => grants.revokeByGrantId(grantId);
  const readAhead = new ReadAhead(store.Adapter);
  const rememberedConsent = createRememberedConsent(accounts);

  const cookieKeys = deriveCookieKeys(secret);
  let host: ProviderHost | undefined;
  const keys = await SigningKeyWatcher.start(
    store.keys,
    secret,
    (next) => {
      host?.update(next);
      options.onSigningKeysChanged?.(next);
    },
    options.keyPollSeconds,
  );
  options.onSigningKeysChanged?.(keys.current);

  host = new ProviderHost(
    {
      config,
      adapter: readAhead.Adapter,
      cookieKeys,
      dpopNonceSecret: deriveDpopNonceSecret(secret),
      replay: store.replay,
      staticClients: options.clients ?? [],
      findAccount: rememberedConsent.findAccount,
      loadExistingGrant: rememberedConsent.loadExistingGrant,
      interactionPolicy: createInteractionPolicy(),
      pages: createProviderPages({ config }),
    },
    keys.current,
    (provider) => {
      provider.on('grant.error', (ctx, err) => {
        if (err instanceof TokenAlreadyConsumedError) {
          stateOf(ctx).consumeRace = { grantId: err.grantId, kind: err.kind };
        }
      });
      provider.on('server_error', (_ctx, err) => options.onError?.(err));
      options.onProviderCreated?.(provider);
    },
  );
  const providerHost = host;
  try {
    await validateClients(providerHost.provider, options.clients ?? []);
  } catch (err) {
    keys.stop();
    throw err;
  }

  const tokenPolicies = createTokenPolicies({
    reuseInterval: config.refreshTokenReuseInterval,
    knownScopes: new Set([...OIDC_SCOPES, ...config.resources.flatMap((r) => r.scopes)]),
    readAhead,
    accounts,
    serializer: store.refreshLocks,
    successors: new SuccessorLinks(store.Adapter, config.refreshTokenReuseInterval),
    revokeGrant,
  });
  const throttleClientAuth = clientAuthThrottle(limiter, {
    onSecurityEvent: options.onSecurityEvent,
    lockouts: store.lockouts,
    onError: options.onError,
  });
  const jwtIntrospectionRevocation = createJwtIntrospectionRevocation({
    issuer: config.issuer,
    publicJwks: () => providerHost.publicJwks(),
    grantAlive: async (grantId) => (await grants.find(grantId)) !== undefined,
    revokeGrant,
  });
  /** Set by drain() or close(): readiness fails so that load balancers stop sending traffic. */
  let draining = false;
  const app = createApp({
    config,
    cookieKeys,
    readiness: async () =>
      draining ? 'shutting down' : (await store.isReady()) ? 'ready' : 'store unavailable',
    pages: createPageRoutes({
      provider: () => providerHost.provider,
      accounts,
      config,
      mailer,
      limiter,
      revokeGrant,
      readAhead,
      log,
      onSecurityEvent: options.onSecurityEvent,
    }),
    // Each policy on the endpoints it concerns, in this order: the lockout before anything
    // reads the client's request further.
    formGuard: formEndpointGuard([
      { paths: FORM_ENDPOINTS, apply: throttleClientAuth.apply },
      // Device codes and pushed requests of public clients: records anyone may have stored, limited per address.
      { paths: new Set(['/device/auth', '/par']), apply: publicClientLimits(limiter) },
      { paths: new Set(['/introspect', '/revoke']), apply: jwtIntrospectionRevocation },
      { paths: new Set(['/token', '/device/auth']), apply: tokenPolicies },
    ]),
    protocol: providerHost.middleware,
    // The provider's own pages: their forms held to the pages' size limit, user codes and
    // registration tokens guessed from one address limited, anonymous sessions and the
    // authorization requests that store interactions rate-limited.
    provider: compose([
      providerFormLimit(),
      guessThrottles({ limiter, onSecurityEvent: options.onSecurityEvent }),
      anonymousSessionLimit({ provider: () => providerHost.provider, limiter }),
      authorizationRequestLimit(limiter),
      providerHost.middleware,
    ]),
    onError: (err) => options.onError?.(err),
    ...(options.outerMiddleware ? { outer: options.outerMiddleware } : {}),
  });

  const servers = new Set<Server>();
  return {
    config,
    app,
    host: providerHost,
    store,
    keys,
    accounts,
    limiter,
    mailer,
    revocations: store.revocations,
    revokeGrant,
    async listen(port = config.port) {
      const server = createServer(timedServerOptions(options.requestTimeouts), app.callback()).listen(
        port,
        '0.0.0.0',
      );
      await once(server, 'listening');
      servers.add(server);
      const { port: bound } = server.address() as AddressInfo;
      return { server, url: `http://localhost:${bound}` };
    },
    drain() {
      draining = true;
    },
    async close() {
      draining = true;
      keys.stop();
      throttleClientAuth.close();
      await Promise.all(
        [...servers].map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeIdleConnections();
            }),
        ),
      );
      await mailer.close();
      await store.close();
    },
  };
}
