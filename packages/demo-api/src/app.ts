import { createServer, type Server } from 'node:http';
import {
  type AccessTokenVerifier,
  type AccessTokenVerifierOptions,
  createAccessTokenVerifier,
  type RevocationSource,
  redisDpopReplayStore,
  redisRevocationSource,
} from '@gatehouse/resource';
import Router from '@koa/router';
import type { Redis } from 'ioredis';
import Koa from 'koa';
import { errorHandler } from './errors.ts';
import { jsonBody } from './json-body.ts';
import { openApiDocument } from './openapi.ts';
import { RedisRecipeStore } from './recipes/redis-store.ts';
import { recipeRoutes } from './recipes/routes.ts';
import { MemoryRecipeStore, type RecipeStore } from './recipes/store.ts';
import type { DemoTokenStorage } from './web/page-html.ts';
import { demoWebPage } from './web/web-page.ts';

/**
 * Options of {@link createDemoApi}.
 *
 * @example
 * ```ts
 * const options: DemoApiOptions = { issuer, apiUrl, redis: new Redis(redisUrl) };
 * ```
 */
export interface DemoApiOptions {
  /** The Gatehouse server's issuer URL. */
  issuer: string;
  /** This API's public URL: its resource identifier (the `aud` of its tokens). */
  apiUrl: string;
  /** Stores recipes in Redis and, unless `revocations` is given, listens for revocations there. */
  redis?: Redis;
  /** Revocation source (e.g. the server's in-process emitter when both run in one process). */
  revocations?: RevocationSource;
  /** Overrides the recipe store chosen from `redis`. */
  store?: RecipeStore;
  /** Extra verifier options (clock, JWKS location, cache…). */
  verifier?: Omit<Partial<AccessTokenVerifierOptions>, 'issuer' | 'audience' | 'revocations'>;
  /** Receives unexpected errors (answered 500 without detail). */
  onError?: (error: unknown) => void;
  /**
   * The demo web page at `/`: the OAuth client it signs in as (default `demo-spa`) and where it
   * keeps tokens (default `hybrid`), or `false` for the API alone.
   */
  web?: { clientId?: string; tokenStorage?: DemoTokenStorage } | false;
}

/**
 * The demo API: a Koa app plus its access-token verifier and a `close()` for its subscriptions.
 *
 * @example
 * ```ts
 * const api: DemoApi = createDemoApi(options);
 * const server = api.listen(4001);
 * process.once('SIGTERM', () => { api.close(); server.close(); });
 * ```
 */
export type DemoApi = Koa & {
  readonly verifier: AccessTokenVerifier;
  /** Builds the demo page's bundle now instead of on the first visit (no-op without the page). */
  prepareWebPage(): Promise<void>;
  close(): void;
};

const BODY_LIMIT = 64 * 1024;

/**
 * Builds the recipes demo API (routes in ARCHITECTURE.md "Demo API") as a Koa app.
 *
 * @example
 * ```ts
 * const api = createDemoApi({ issuer: 'http://localhost:4000', apiUrl: 'http://localhost:4001' });
 * api.listen(4001);
 * ```
 */
export function createDemoApi(options: DemoApiOptions): DemoApi {
  const apiUrl = options.apiUrl.replace(/\/$/, '');
  const revocations =
    options.revocations ?? (options.redis ? redisRevocationSource(options.redis) : undefined);
  // DPoP (RFC 9449): bound tokens must come with a proof, unbound ones as Bearer (the verifier's default
  // 'allowed'). Proofs name the URL the client used: API_URL, whatever proxy sits in front. With Redis,
  // a proof is single-use across every instance of the API.
  const verifier = createAccessTokenVerifier({
    dpopPublicOrigin: new URL(apiUrl).origin,
    ...(options.redis ? { dpopReplayStore: redisDpopReplayStore(options.redis) } : {}),
    ...options.verifier,
    issuer: options.issuer,
    audience: apiUrl,
    ...(revocations ? { revocations } : {}),
  });
  const store =
    options.store ?? (options.redis ? new RedisRecipeStore(options.redis) : new MemoryRecipeStore());
  const now = options.verifier?.now ?? (() => new Date());

  const app = new Koa();
  app.use(async function securityHeaders(ctx, next) {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cache-Control', 'no-store');
    // Bearer tokens, no cookies: any origin may call the API (the demo page and SDK examples do).
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.set(
      'Access-Control-Expose-Headers',
      'Link, X-Total-Count, Location, WWW-Authenticate, Retry-After, DPoP-Nonce',
    );
    if (ctx.method === 'OPTIONS' && ctx.get('Access-Control-Request-Method')) {
      ctx.set('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE');
      // DPoP (RFC 9449 §4.1): browsers send the proof in a `DPoP` header, which needs a preflight.
      ctx.set('Access-Control-Allow-Headers', 'Authorization, Content-Type, DPoP');
      ctx.set('Access-Control-Max-Age', '600');
      ctx.status = 204;
      return;
    }
    await next();
  });
  app.use(errorHandler(options.onError));
  app.use(jsonBody({ limit: BODY_LIMIT }));

  const meta = new Router();
  const document = openApiDocument({ apiUrl, issuer: options.issuer });
  meta.get('/health', function health(ctx) {
    ctx.body = { status: 'ok' };
  });
  meta.get('/openapi.json', function openApi(ctx) {
    ctx.body = document;
  });
  const recipes = recipeRoutes({ store, verifier, apiUrl, now });
  app.use(meta.routes()).use(meta.allowedMethods());
  app.use(recipes.routes()).use(recipes.allowedMethods());
  const web =
    options.web === false
      ? undefined
      : demoWebPage({
          issuer: options.issuer,
          apiUrl,
          clientId: options.web?.clientId ?? 'demo-spa',
          tokenStorage: options.web?.tokenStorage ?? 'hybrid',
        });
  if (web) app.use(web.routes);
  app.use(function notFound(ctx) {
    ctx.status = 404;
    ctx.body = { error: 'not_found', error_description: `no route for ${ctx.method} ${ctx.path}` };
  });

  return Object.assign(app, {
    verifier,
    prepareWebPage: async () => web?.prepare(),
    close: () => verifier.close(),
    // Koa's listen with the request time limits of the Gatehouse server: 10 s for a request's headers and
    // 30 s for the whole request, then 408 (Node waits 60 s and 5 minutes, checked every 30 s), so clients that
    // trickle bytes cannot hold sockets open ("slowloris").
    listen: ((...args: Parameters<Server['listen']>) =>
      createServer(
        { headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 1_000 },
        app.callback(),
      ).listen(...args)) as Koa['listen'],
  });
}
