import type { ServerOptions } from 'node:http';

/** How long one request may take to arrive (ms): its headers, and the whole request with its body. */
export interface RequestTimeouts {
  readonly headersMs: number;
  readonly requestMs: number;
}

/**
 * A connection that has not sent a whole request's headers within 10 s, or the whole request
 * within 30 s, is answered 408 and closed (Node's defaults are 60 s and 5 minutes, checked every
 * 30 s). Every request Gatehouse serves is a page view or a small form: a client trickling bytes
 * only holds a socket, and enough of them exhaust the process's file descriptors ("slowloris").
 * A TLS proxy in front (docs/production.md) buffers requests and shields the server the same way.
 */
export const REQUEST_TIMEOUTS: RequestTimeouts = { headersMs: 10_000, requestMs: 30_000 };

/**
 * The options of `http.createServer` that hold clients to `timeouts`: Node answers 408 and closes
 * the connection, and looks for late requests every second (every 30 s by default, longer than
 * the limits themselves).
 *
 * @example
 * createServer(timedServerOptions(), app.callback()).listen(4000);
 */
export function timedServerOptions(timeouts: RequestTimeouts = REQUEST_TIMEOUTS): ServerOptions {
  return {
    headersTimeout: timeouts.headersMs,
    requestTimeout: timeouts.requestMs,
    connectionsCheckingInterval: Math.min(1000, timeouts.headersMs),
  };
}
