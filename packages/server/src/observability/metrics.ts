import { tracingChannel } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Cluster, Redis } from 'ioredis';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { timedServerOptions } from '../http/request-timeouts.ts';

/** Label value for a request without an identified client. */
export const UNKNOWN_CLIENT = 'unknown';
/** Label value once `maxClientLabels` distinct clients have been seen. */
export const OTHER_CLIENTS = 'other';

export interface MetricsOptions {
  /**
   * Distinct `client_id` label values kept before new ones become `other`. Only registered
   * clients reach a label, but dynamic registration can make many; this bounds the series.
   * @default 500
   */
  readonly maxClientLabels?: number;
  /** Node.js process metrics (CPU, memory, event-loop lag, GC). @default true */
  readonly processMetrics?: boolean;
}

/** Every Gatehouse metric, in one registry of its own (never prom-client's global one). */
export interface GatehouseMetrics {
  readonly registry: Registry;
  /** `gatehouse_tokens_issued_total{grant_type,client_id}`: successful token responses. */
  readonly tokensIssued: Counter<'grant_type' | 'client_id'>;
  /** `gatehouse_oauth_errors_total{error,route}`: OAuth error responses by RFC 6749 error code. */
  readonly oauthErrors: Counter<'error' | 'route'>;
  /** `gatehouse_refresh_replays_total`: a spent refresh token presented again (family revoked). */
  readonly refreshReplays: Counter;
  /** `gatehouse_code_replays_total`: a spent authorization code presented again (grant revoked). */
  readonly codeReplays: Counter;
  /** `gatehouse_http_request_duration_seconds{route,method,status}`. */
  readonly httpRequestDuration: Histogram<'route' | 'method' | 'status'>;
  /** `gatehouse_redis_command_duration_seconds{command,outcome}` (outcome `ok` or `error`). */
  readonly redisCommandDuration: Histogram<'command' | 'outcome'>;
  /** `gatehouse_login_failures_total{reason}`: the sign-in page's rejected attempts. */
  readonly loginFailures: Counter<'reason'>;
  /** `gatehouse_lockouts_total{scope}`: a limiter started refusing (`account`, `ip`, `client`, `user_code`, `registration_token`). */
  readonly lockouts: Counter<'scope'>;
  /** `gatehouse_client_auth_failures_total{route}`: `invalid_client` answers. */
  readonly clientAuthFailures: Counter<'route'>;
  /** `gatehouse_grants_revoked_total`. */
  readonly grantsRevoked: Counter;
  /** `gatehouse_signing_key_rotations_total`. */
  readonly keyRotations: Counter;
  /** A bounded `client_id` label value: `unknown` without a client, `other` past the cap. */
  clientLabel(clientId: string | undefined): string;
  /**
   * Reports `gatehouse_redis_up` (PING at every scrape) and times this connection's
   * commands into `gatehouse_redis_command_duration_seconds`.
   */
  watchRedis(connection: Redis | Cluster): void;
  /** Stops watching Redis (unsubscribes from ioredis' command tracing). */
  close(): void;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const REDIS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** A PING that takes longer than this counts as down. */
const PING_TIMEOUT_MS = 1_000;
// OAuth error codes are RFC-defined snake_case words; anything else is not a label.
const ERROR_CODE = /^[a-z_]{1,64}$/;

/** The fields of ioredis' `ioredis:command` tracing context that we read. */
interface CommandTrace {
  readonly command?: string;
  readonly serverAddress?: string;
  readonly serverPort?: number;
  error?: unknown;
  gatehouseStartedAt?: number;
}

/**
 * Creates the metrics of one server.
 *
 * @example
 * const metrics = createMetrics();
 * metrics.watchRedis(server.store.connection);
 * app.use(observeRequests({ metrics }));
 */
export function createMetrics(options: MetricsOptions = {}): GatehouseMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'gatehouse_' });

  const maxClients = options.maxClientLabels ?? 500;
  const seenClients = new Set<string>();
  const clientLabel = (clientId: string | undefined): string => {
    if (clientId === undefined || clientId === '') return UNKNOWN_CLIENT;
    if (seenClients.has(clientId)) return clientId;
    if (seenClients.size >= maxClients) return OTHER_CLIENTS;
    seenClients.add(clientId);
    return clientId;
  };

  const redisCommandDuration = new Histogram({
    name: 'gatehouse_redis_command_duration_seconds',
    help: 'Redis command latency as seen by the server, by command and outcome.',
    labelNames: ['command', 'outcome'] as const,
    buckets: REDIS_BUCKETS,
    registers,
  });

  let unsubscribe: (() => void) | undefined;
  let watched: Redis | Cluster | undefined;
  const watchRedis = (connection: Redis | Cluster) => {
    if (watched === undefined) {
      new Gauge({
        name: 'gatehouse_redis_up',
        help: '1 when the token store (Redis) answered PING at this scrape, 0 when it did not.',
        registers,
        async collect() {
          this.set(watched !== undefined && (await ping(watched)) ? 1 : 0);
        },
      });
    }
    watched = connection;
    unsubscribe?.();
    unsubscribe = traceCommands(connection, redisCommandDuration);
  };

  return {
    registry,
    tokensIssued: new Counter({
      name: 'gatehouse_tokens_issued_total',
      help: 'Successful token endpoint responses, by grant type and client.',
      labelNames: ['grant_type', 'client_id'] as const,
      registers,
    }),
    oauthErrors: new Counter({
      name: 'gatehouse_oauth_errors_total',
      help: 'OAuth error responses, by error code and route.',
      labelNames: ['error', 'route'] as const,
      registers,
    }),
    refreshReplays: new Counter({
      name: 'gatehouse_refresh_replays_total',
      help: 'Spent refresh tokens presented again; each revoked its token family.',
      registers,
    }),
    codeReplays: new Counter({
      name: 'gatehouse_code_replays_total',
      help: 'Spent authorization codes presented again; each revoked its grant.',
      registers,
    }),
    httpRequestDuration: new Histogram({
      name: 'gatehouse_http_request_duration_seconds',
      help: 'HTTP request latency, by normalized route, method and status.',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    redisCommandDuration,
    loginFailures: new Counter({
      name: 'gatehouse_login_failures_total',
      help: 'Rejected sign-in attempts, by reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    lockouts: new Counter({
      name: 'gatehouse_lockouts_total',
      help: 'Times a limiter started refusing attempts, by what it limits.',
      labelNames: ['scope'] as const,
      registers,
    }),
    clientAuthFailures: new Counter({
      name: 'gatehouse_client_auth_failures_total',
      help: 'Failed client authentications (invalid_client), by route.',
      labelNames: ['route'] as const,
      registers,
    }),
    grantsRevoked: new Counter({
      name: 'gatehouse_grants_revoked_total',
      help: 'Grants revoked with everything issued from them.',
      registers,
    }),
    keyRotations: new Counter({
      name: 'gatehouse_signing_key_rotations_total',
      help: 'Signing key rotations seen by this process.',
      registers,
    }),
    clientLabel,
    watchRedis,
    close() {
      unsubscribe?.();
      unsubscribe = undefined;
    },
  };
}

async function ping(connection: Redis | Cluster): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
  });
  try {
    return await Promise.race([connection.ping().then((reply) => reply === 'PONG'), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * ioredis 6 publishes every command on the `ioredis:command` diagnostics tracing channel.
 * The channel is process-wide, so a standalone connection's commands are picked out by server
 * address; a cluster's commands go to many nodes, so all traced commands count.
 */
function traceCommands(connection: Redis | Cluster, histogram: Histogram<'command' | 'outcome'>): () => void {
  const channel = tracingChannel<object, CommandTrace>('ioredis:command');
  const standalone = 'options' in connection && !('nodes' in connection) ? connection.options : undefined;
  const mine = (trace: CommandTrace) =>
    standalone === undefined ||
    (trace.serverPort === (standalone.port ?? 6379) &&
      trace.serverAddress === (standalone.host ?? 'localhost'));
  const handlers = {
    start(trace: CommandTrace) {
      if (mine(trace)) trace.gatehouseStartedAt = performance.now();
    },
    end() {},
    asyncStart() {},
    asyncEnd(trace: CommandTrace) {
      if (trace.gatehouseStartedAt === undefined) return;
      const seconds = (performance.now() - trace.gatehouseStartedAt) / 1000;
      histogram.observe(
        { command: (trace.command ?? 'unknown').toLowerCase(), outcome: trace.error ? 'error' : 'ok' },
        seconds,
      );
    },
    error() {},
  };
  channel.subscribe(handlers);
  return () => channel.unsubscribe(handlers);
}

/**
 * Counts an OAuth error response (a JSON body with an `error` code, status 400 or more) into
 * `gatehouse_oauth_errors_total`, and an `invalid_client` into `gatehouse_client_auth_failures_total`.
 * Errors oidc-provider answers with a redirect or an HTML page are counted from its events
 * (see {@link attachProviderMetrics}). Called once per request by the request observer
 * (`request-log.ts`), which also times the request.
 */
export function countErrorResponse(metrics: GatehouseMetrics, body: unknown, route: string): void {
  const error = (body as { error?: unknown } | null | undefined)?.error;
  if (typeof error !== 'string' || !isPlainObject(body)) return;
  metrics.oauthErrors.inc({ error: ERROR_CODE.test(error) ? error : 'other', route });
  if (error === 'invalid_client') metrics.clientAuthFailures.inc({ route });
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Buffer.isBuffer(value) && !('pipe' in value);
}

/** The Prometheus text exposition of the registry. */
async function exposition(metrics: GatehouseMetrics): Promise<{ contentType: string; body: string }> {
  return { contentType: metrics.registry.contentType, body: await metrics.registry.metrics() };
}

/**
 * Serves `GET /metrics` on the application port (when `METRICS_PORT` is unset).
 * Behind a public proxy, block `/metrics` there or use `METRICS_PORT`: it names your clients.
 */
export function metricsRoute(metrics: GatehouseMetrics, path = '/metrics'): Koa.Middleware {
  // Not async: every other request passes straight on, without a promise of its own.
  return function serveMetrics(ctx, next) {
    if (ctx.path !== path || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    return exposition(metrics).then(({ contentType, body }) => {
      ctx.set('Cache-Control', 'no-store');
      ctx.type = contentType;
      ctx.body = body;
    });
  };
}

/**
 * Serves the metrics on their own port (`METRICS_PORT`), so they can stay on a private
 * network while the issuer is public. Every path answers with the metrics.
 */
export async function startMetricsServer(
  metrics: GatehouseMetrics,
  port: number,
  host = '0.0.0.0',
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer(timedServerOptions(), (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    exposition(metrics).then(
      ({ contentType, body }) => {
        res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    server,
    url: `http://localhost:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

/**
 * Counts what only oidc-provider's events show: tokens issued (`grant.success`) and the
 * authorization endpoint's errors, which reach the client as a redirect or an HTML page
 * rather than a JSON body. Attach to every provider instance (a key rotation builds a new one).
 */
export function attachProviderMetrics(provider: Provider, metrics: GatehouseMetrics): void {
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const grantType = ctx.oidc.params?.grant_type;
    metrics.tokensIssued.inc({
      grant_type: typeof grantType === 'string' ? grantType : 'unknown',
      client_id: metrics.clientLabel(ctx.oidc.client?.clientId),
    });
  });
  provider.on('authorization.error', (ctx: KoaContextWithOIDC, err: { error?: unknown }) => {
    const error = typeof err.error === 'string' && ERROR_CODE.test(err.error) ? err.error : 'other';
    metrics.oauthErrors.inc({ error, route: ctx.oidc?.route ?? 'authorization' });
  });
}
