import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { ClientMetadata, FindAccount } from 'oidc-provider';
import { createApp } from './app.ts';
import { validateClients } from './clients/clients-file.ts';
import type { Config } from './config.ts';
import { deriveCookieKeys, MemoryKeyRepository, RedisKeyRepository } from './keys/index.ts';
import { SigningKeyWatcher } from './keys/signing-key-watcher.ts';
import { OIDC_SCOPES, type ProviderPages } from './provider/configuration.ts';
import { formEndpointGuard } from './provider/form-endpoints.ts';
import { ProviderHost } from './provider/provider-host.ts';
import { memoryRefreshSerializer, redisRefreshSerializer, SuccessorLinks } from './provider/refresh-reuse.ts';
import { createStructuredTokenPolicies } from './provider/structured-tokens.ts';
import { createTokenPolicies, stateOf } from './provider/token-policies.ts';
import { resolveSecret } from './secret.ts';
import { createStore, type Store, TokenAlreadyConsumedError } from './store/index.ts';

export interface GatehouseOptions {
  /** Clients known at start (the clients file, seeded demo clients). */
  readonly clients?: readonly ClientMetadata[];
  readonly findAccount?: FindAccount;
  /** Page routes served before the provider. */
  readonly pages?: (parts: { host: ProviderHost; store: Store }) => Koa.Middleware;
  readonly providerPages?: Partial<ProviderPages>;
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
}

export interface GatehouseServer {
  readonly config: Config;
  readonly app: Koa;
  readonly host: ProviderHost;
  readonly store: Store;
  readonly keys: SigningKeyWatcher;
  /** Revokes a grant and everything issued from it; resource servers are told. */
  revokeGrant(grantId: string): Promise<void>;
  /** Listens on `port` (default: config.port; 0 for a free one). */
  listen(port?: number): Promise<{ server: Server; url: string }>;
  /** Stops accepting, lets in-flight requests finish, closes Redis. */
  close(): Promise<void>;
}

// Until accounts exist every subject is an account without claims beyond `sub`.
const subjectOnly: FindAccount = async (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) });

/** Builds a Gatehouse server: store, signing keys, oidc-provider and the Koa app around it. */
export async function createGatehouseServer(
  config: Config,
  options: GatehouseOptions = {},
): Promise<GatehouseServer> {
  const secret = await resolveSecret(config);
  const longestAccessTokenTTL = Math.max(
    config.accessTokenTTL,
    ...config.resources.map((r) => r.accessTokenTTL ?? 0),
  );
  const store = await createStore(config, {
    revokedTTL: config.refreshTokenTTL,
    accessTokenTTL: longestAccessTokenTTL,
    ...(options.onError ? { onConnectionError: options.onError } : {}),
  });
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
  const revokeGrant = (grantId: string) => grants.revokeByGrantId(grantId);

  const cookieKeys = deriveCookieKeys(secret);
  let host: ProviderHost | undefined;
  const repo = store.connection ? new RedisKeyRepository(store.connection) : new MemoryKeyRepository();
  const keys = await SigningKeyWatcher.start(
    repo,
    secret,
    (next) => host?.update(next),
    options.keyPollSeconds,
  );

  host = new ProviderHost(
    {
      config,
      adapter: store.Adapter,
      cookieKeys,
      staticClients: options.clients ?? [],
      findAccount: options.findAccount ?? subjectOnly,
      ...(options.providerPages ? { pages: options.providerPages } : {}),
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
    adapter: store.Adapter,
    serializer: store.connection ? redisRefreshSerializer(store.connection) : memoryRefreshSerializer(),
    successors: new SuccessorLinks(store.Adapter, config.refreshTokenReuseInterval),
    revokeGrant,
  });
  const structuredTokens = createStructuredTokenPolicies({
    issuer: config.issuer,
    publicJwks: () => providerHost.publicJwks(),
    grantAlive: async (grantId) => (await grants.find(grantId)) !== undefined,
    revokeGrant,
  });
  const app = createApp({
    config,
    cookieKeys,
    isReady: () => store.isReady(),
    ...(options.pages ? { pages: options.pages({ host: providerHost, store }) } : {}),
    formGuard: formEndpointGuard((ctx, request, next) =>
      structuredTokens(ctx, request, () => tokenPolicies(ctx, request, next)),
    ),
    provider: providerHost.middleware,
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
    revokeGrant,
    async listen(port = config.port) {
      const server = app.listen(port, '0.0.0.0');
      await once(server, 'listening');
      servers.add(server);
      const { port: bound } = server.address() as AddressInfo;
      return { server, url: `http://localhost:${bound}` };
    },
    async close() {
      keys.stop();
      await Promise.all(
        [...servers].map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeIdleConnections();
            }),
        ),
      );
      await store.close();
    },
  };
}
