import {
  type Clock,
  createGatehouseClient,
  type GatehouseClient,
  type GatehouseClientOptions,
  type GatehouseEvents,
  type TokenStorage,
} from '@gatehouse/client';
import { freePort, type RedisProcess, startRedis } from '@gatehouse/testkit';
import { REDIRECT_URI } from '@gatehouse/testkit/clients';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { authorize } from '@gatehouse/testkit/sign-in';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

/** The API the demo resource of the server stands for; tokens the SDK asks for carry it as `aud`. */
export const AUDIENCE = 'http://localhost:4001';

/** One request with `grant_type=refresh_token` as the real server answered it. */
export interface RefreshGrant {
  readonly ok: boolean;
  /** The OAuth error code of a refused grant (`invalid_grant` …). */
  readonly error?: string;
}

export interface GatehouseBehindProxy {
  readonly redis: RedisProcess;
  readonly gatehouse: StartedGatehouse;
  /** Sits at the issuer URL: every request of the SDK (discovery, token, revocation) goes through it. */
  readonly proxy: TcpProxy;
  readonly issuer: string;
  /** Every refresh_token grant the server handled, in order. */
  readonly refreshGrants: RefreshGrant[];
  stop(): Promise<void>;
}

/**
 * The real Gatehouse server on a private redis-server, reachable only through a TCP proxy on the issuer's
 * port, so a test can make the authorization server unreachable (and reachable again) without touching it.
 */
export async function startGatehouseBehindProxy(): Promise<GatehouseBehindProxy> {
  const refreshGrants: RefreshGrant[] = [];
  const redis = await startRedis();
  let gatehouse: StartedGatehouse | undefined;
  try {
    const proxyPort = await freePort();
    gatehouse = await startGatehouse({
      redis,
      env: { ISSUER: `http://localhost:${proxyPort}` },
      gatehouse: {
        onProviderCreated: (provider) => {
          provider.on('grant.success', (ctx) => {
            if (ctx.oidc.params?.grant_type === 'refresh_token') refreshGrants.push({ ok: true });
          });
          provider.on('grant.error', (ctx, error) => {
            if (ctx.oidc?.params?.grant_type === 'refresh_token') {
              refreshGrants.push({ ok: false, error: (error as { error?: string }).error ?? 'unknown' });
            }
          });
        },
      },
    });
    const proxy = await startTcpProxy(proxyPort, { host: '127.0.0.1', port: gatehouse.server.config.port });
    const started = gatehouse;
    return {
      redis,
      gatehouse: started,
      proxy,
      issuer: started.issuer,
      refreshGrants,
      async stop() {
        await proxy.close();
        await started.stop();
        await redis.cleanup();
      },
    };
  } catch (error) {
    await gatehouse?.stop();
    await redis.cleanup();
    throw error;
  }
}

/**
 * Real time plus an offset the test moves forward: `advance()` makes the access token count as expired
 * without waiting. `sleep` returns at once.
 */
export class MovableClock implements Clock {
  #offsetMs = 0;

  now(): number {
    return Date.now() + this.#offsetMs;
  }

  advance(seconds: number): void {
    this.#offsetMs += seconds * 1000;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.#offsetMs += ms;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Wraps a storage to remember which keys the SDK ever wrote, so a test can look at everything the SDK left in
 * the storage it was given, without knowing the SDK's key names. Reads and writes go to `inner` unchanged.
 */
export function keyRecordingStorage(inner: TokenStorage): {
  storage: TokenStorage;
  values(): Promise<string[]>;
} {
  const keys = new Set<string>();
  return {
    storage: {
      get: (key) => inner.get(key),
      set: (key, value) => {
        keys.add(key);
        return inner.set(key, value);
      },
      remove: (key) => inner.remove(key),
    },
    async values() {
      const values: string[] = [];
      for (const key of keys) {
        const value = await inner.get(key);
        if (value !== undefined && value !== null) values.push(value);
      }
      return values;
    },
  };
}

/**
 * An SDK client for the public `spa` client, signed in with the authorization code flow: the SDK builds the
 * authorization URL, the user's part (login + consent as a real account) is played against the server, and
 * the SDK redeems the callback.
 */
export async function signInWithSdk(
  gh: { readonly issuer: string; readonly gatehouse: Pick<StartedGatehouse, 'server'> },
  options: Pick<GatehouseClientOptions, 'storage' | 'clock' | 'dpop'> & { user?: string },
): Promise<GatehouseClient> {
  const auth = createGatehouseClient({
    issuer: gh.issuer,
    clientId: 'spa',
    redirectUri: REDIRECT_URI,
    scope: 'openid offline_access recipes:read recipes:write',
    resource: AUDIENCE,
    ...(options.storage ? { storage: options.storage } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.dpop ? { dpop: true } : {}),
    crossTab: false,
  });
  let authorizationUrl = '';
  await auth.signInRedirect({
    navigate: (url) => {
      authorizationUrl = url;
    },
  });
  const callback = await authorize(
    gh.gatehouse.server,
    authorizationUrl,
    options.user ?? 'sdk-failures-user',
  );
  await auth.handleRedirectCallback(callback.href);
  return auth;
}

/** Collects every payload of `event` the client emits from now on. */
export function recordEvents<E extends keyof GatehouseEvents>(
  auth: GatehouseClient,
  event: E,
): GatehouseEvents[E][] {
  const seen: GatehouseEvents[E][] = [];
  auth.on(event, (payload) => seen.push(payload));
  return seen;
}
