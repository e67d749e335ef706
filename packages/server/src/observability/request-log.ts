import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import { type GrantType, tokenGrantTypeOf } from '../tokens/grant-types.ts';
import type { Logger } from './logger.ts';
import { countErrorResponse, type GatehouseMetrics, metricsRoute } from './metrics.ts';
import { clientIdOf, routeLabel } from './route-label.ts';

/** Response (and accepted request) header carrying the request id. */
export const REQUEST_ID_HEADER = 'X-Request-Id';
const INCOMING_REQUEST_ID = 'x-request-id';

// An id a proxy or caller may hand us: short, printable, no spaces or separators that could
// forge log structure. Anything else is replaced by our own.
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface RequestLogOptions {
  /**
   * Keep a sane incoming `X-Request-Id` (set by your proxy) instead of generating one.
   * @default true
   */
  readonly acceptRequestId?: boolean;
  /**
   * Paths polled by health checks and scrapers: their successful requests log at `debug`, so a
   * 15-second HEALTHCHECK does not fill the log. Failures still log at `info`/`error`.
   * @default ['/healthz', '/readyz', '/metrics']
   */
  readonly probePaths?: readonly string[];
}

/** The fields of the one line logged per request. */
export interface RequestLogLine {
  readonly requestId: string;
  readonly method: string;
  /** Normalized: an oidc-provider route name or a path template, never the query string. */
  readonly route: string;
  readonly status: number;
  /** Milliseconds from the request reaching Gatehouse to the response being ready. */
  readonly ms: number;
  /** The registered client oidc-provider identified, if any. */
  readonly clientId?: string;
  /**
   * `POST /token`: the grant type asked for (RFC 6749 §4.1.3, §6; RFC 8628 §3.4), only when it
   * is one Gatehouse knows, so refreshes and code exchanges can be told apart in the log.
   */
  readonly grant_type?: GrantType;
  readonly ip: string;
}

function clientAddress(ctx: Koa.Context): string {
  try {
    return ctx.ip;
  } catch {
    return '';
  }
}

/** The request id {@link requestLogger} assigned, for other middleware's log lines. */
export function requestIdOf(ctx: Koa.Context): string | undefined {
  const id = (ctx.state as { requestId?: unknown }).requestId;
  return typeof id === 'string' ? id : undefined;
}

/** What {@link observeRequests} does with each request: log it, time it, or both. */
export interface ObserveRequestsOptions extends RequestLogOptions {
  /** Writes the one line per request ({@link RequestLogLine}); no line, and no request id, without it. */
  readonly log?: Logger;
  /**
   * Times the request into `gatehouse_http_request_duration_seconds` and counts OAuth error
   * responses ({@link countErrorResponse}).
   */
  readonly metrics?: GatehouseMetrics;
  /** Serves the metrics at this path (`GET`/`HEAD`) when set; see {@link metricsRoute}. */
  readonly metricsPath?: string;
}

/**
 * The request log and the request metrics in one middleware: one clock reading at each end,
 * one route label, one place that sets `X-Request-Id`, whatever combination is enabled (every
 * request passes here, so two wrappers would cost two promises and two timings per request).
 *
 * The log line: request id (also returned as `X-Request-Id`), method, normalized route, status,
 * latency, client id and, for a token request, its grant type. Deliberately never the URL or
 * query (authorization codes, `state` and tokens ride there), bodies, cookies or headers: what
 * is not written cannot leak. Put it first in `outerMiddleware`.
 *
 * @example
 * createGatehouseServer(config, { outerMiddleware: [observeRequests({ log, metrics, metricsPath: '/metrics' })] });
 */
export function observeRequests(options: ObserveRequestsOptions): Koa.Middleware {
  const { log, metrics, metricsPath } = options;
  const accept = options.acceptRequestId ?? true;
  const probes = new Set(options.probePaths ?? ['/healthz', '/readyz', '/metrics']);
  const serveMetrics = metrics && metricsPath ? metricsRoute(metrics, metricsPath) : undefined;
  // The request line is built here from fixed fields (none named like a credential, none an
  // object), so the logger's redaction can never change it; yet pino runs its wildcard paths
  // (`*.password`, `*.*.password`, …) over every field of every line, parsing each path again
  // each time: tens of µs per request. The line goes through a child without redaction, to the
  // same destination with the same bindings; whether it is written is still `log`'s level
  // (decided in `finish`), so the child itself lets every level through.
  const lines = log?.child({}, { redact: [], level: 'trace' });

  function finish(ctx: Koa.Context, started: number, ip: string, requestId: string, failed: boolean): void {
    const status = failed ? 500 : ctx.status;
    const level = !log
      ? undefined
      : status >= 500
        ? 'error'
        : status < 400 && probes.has(ctx.path)
          ? 'debug'
          : 'info';
    // A line the logger would drop is not built (LOG levels above info: no per-request cost).
    const logged = level !== undefined && log?.isLevelEnabled(level) === true;
    if (!logged && !metrics) return;
    const ms = performance.now() - started;
    const route = routeLabel(ctx, status);
    if (metrics) {
      metrics.httpRequestDuration.observe({ route, method: ctx.method, status: String(status) }, ms / 1000);
      if (!failed && status >= 400) countErrorResponse(metrics, ctx.body, route);
    }
    if (logged && lines && level) {
      const line: RequestLogLine = {
        requestId,
        method: ctx.method,
        route,
        status,
        ms: Math.round(ms * 10) / 10,
        ip,
      };
      const clientId = clientIdOf(ctx);
      const grantType = tokenGrantTypeOf(ctx);
      if (clientId !== undefined) (line as { clientId?: string }).clientId = clientId;
      if (grantType !== undefined) (line as { grant_type?: GrantType }).grant_type = grantType;
      lines[level](line, 'request');
    }
  }

  return async function observeRequest(ctx, next) {
    const started = performance.now();
    let ip = '';
    let requestId = '';
    if (log) {
      // Read while the socket is certainly open: a request destroyed mid-body (a client that
      // hangs up) has no address left to read when the line is written.
      ip = clientAddress(ctx);
      // Node's own header objects, not Koa's `get`/`set` (which lower-case the name and build
      // arrays per call): Node keys incoming headers in lower case and joins a repeated
      // `X-Request-Id` into one string.
      const incoming = ctx.req.headers[INCOMING_REQUEST_ID];
      requestId =
        accept && typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
      (ctx.state as { requestId?: string }).requestId = requestId;
      // Set before the rest runs, and only here: nothing below clears response headers (Koa does
      // only when an error escapes every middleware, and then it answers 500 on its own).
      ctx.res.setHeader(REQUEST_ID_HEADER, requestId);
    }
    try {
      await (serveMetrics ? serveMetrics(ctx, next) : next());
    } catch (err) {
      // Nothing should get past the app's error handler; if something does, Koa answers 500.
      finish(ctx, started, ip, requestId, true);
      throw err;
    }
    finish(ctx, started, ip, requestId, false);
  };
}

/**
 * The request log alone ({@link observeRequests} without metrics).
 *
 * @example
 * createGatehouseServer(config, { outerMiddleware: [requestLogger(log)] });
 */
export function requestLogger(log: Logger, options: RequestLogOptions = {}): Koa.Middleware {
  return observeRequests({ ...options, log });
}

/**
 * The request metrics alone ({@link observeRequests} without a log): every request timed into
 * `gatehouse_http_request_duration_seconds`, OAuth error responses counted.
 */
export function metricsMiddleware(metrics: GatehouseMetrics): Koa.Middleware {
  return observeRequests({ metrics });
}
