import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { Config } from '../config/config.ts';
import type { Store } from '../store/index.ts';
import type { Logger } from './logger.ts';
import {
  attachProviderMetrics,
  createMetrics,
  type GatehouseMetrics,
  type MetricsOptions,
  startMetricsServer,
} from './metrics.ts';
import { observeRequests } from './request-log.ts';
import { attachSecurityEvents, trackSigningKey } from './security-events.ts';

export {
  CREDENTIAL_FIELDS,
  type CreateLoggerOptions,
  createLogger,
  type Logger,
  serializeError,
} from './logger.ts';
export {
  attachProviderMetrics,
  createMetrics,
  type GatehouseMetrics,
  type MetricsOptions,
  metricsRoute,
  OTHER_CLIENTS,
  startMetricsServer,
  UNKNOWN_CLIENT,
} from './metrics.ts';
export {
  metricsMiddleware,
  type ObserveRequestsOptions,
  observeRequests,
  REQUEST_ID_HEADER,
  type RequestLogLine,
  type RequestLogOptions,
  requestIdOf,
  requestLogger,
} from './request-log.ts';
export { clientIdOf, routeLabel } from './route-label.ts';
export {
  attachSecurityEvents,
  type LoginFailureReason,
  logSecurityEvent,
  type SecurityEvent,
  type SecurityEventContext,
  type SecurityEventType,
  trackSigningKey,
} from './security-events.ts';

/** Logs and metrics of one server, ready to hand to `createGatehouseServer`. */
export interface Observability {
  readonly log: Logger;
  readonly metrics: GatehouseMetrics;
  /** For `GatehouseOptions.outerMiddleware`: one middleware: request log, latency/error metrics, `/metrics` (without METRICS_PORT). */
  readonly outerMiddleware: readonly Koa.Middleware[];
  /** For `GatehouseOptions.onProviderCreated`: security events and token metrics. */
  onProviderCreated(provider: Provider): void;
  /**
   * For the signing-key watcher's change callback (and once at start with the current keys):
   * logs `key_rotated` when the signing key changes.
   */
  onSigningKeysChanged(keys: { readonly jwks: readonly { readonly kid?: string | undefined }[] }): void;
  /** Reports Redis availability and command latency (no-op on the in-process store). */
  watchStore(store: Pick<Store, 'connection'>): void;
  /** Starts the separate metrics listener when `METRICS_PORT` is set; returns its URL. */
  start(): Promise<string | undefined>;
  /** Stops the metrics listener and Redis watching. */
  close(): Promise<void>;
}

/**
 * Everything an operator watches, wired from the config.
 *
 * @example
 * const obs = createObservability(config, log);
 * const server = await createGatehouseServer(config, {
 *   outerMiddleware: obs.outerMiddleware,
 *   onProviderCreated: obs.onProviderCreated,
 * });
 * obs.watchStore(server.store);
 * await obs.start();
 */
export function createObservability(
  config: Pick<Config, 'metricsPort'>,
  log: Logger,
  options: MetricsOptions = {},
): Observability {
  const metrics = createMetrics(options);
  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  return {
    log,
    metrics,
    // One middleware: one timing, one route label, one X-Request-Id per request.
    outerMiddleware: [
      observeRequests({
        log,
        metrics,
        ...(config.metricsPort === undefined ? { metricsPath: '/metrics' } : {}),
      }),
    ],
    onSigningKeysChanged: trackSigningKey(log, metrics),
    onProviderCreated(provider) {
      attachProviderMetrics(provider, metrics);
      attachSecurityEvents(provider, log, metrics);
    },
    watchStore(store) {
      if (store.connection) metrics.watchRedis(store.connection);
    },
    async start() {
      if (config.metricsPort === undefined || metricsServer) return metricsServer?.url;
      metricsServer = await startMetricsServer(metrics, config.metricsPort);
      return metricsServer.url;
    },
    async close() {
      metrics.close();
      await metricsServer?.close();
      metricsServer = undefined;
    },
  };
}
