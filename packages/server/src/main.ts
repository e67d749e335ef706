import { readClientsFile } from './clients/clients-file.ts';
import { ConfigError, loadConfig } from './config/config.ts';
import { demoClients } from './dev/demo-clients.ts';
import { seedDemoUser } from './dev/demo-user.ts';
import { createLogger, createObservability, logSecurityEvent } from './observability/index.ts';
import { createGatehouseServer } from './server.ts';
import { StoreUnavailableError } from './store/index.ts';

/** Process entry: config → server → listen; SIGTERM/SIGINT drain in-flight requests, then exit. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`gatehouse: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config);
  if (config.redis.kind === 'memory') {
    log.warn(
      'NO REDIS_URL: running on the in-process store. Every session, token, client and key is lost when this process stops. Development only.',
    );
  }
  const clients = config.clientsFile ? readClientsFile(config.clientsFile) : [];
  const demo = config.redis.kind === 'memory' ? demoClients() : undefined;
  if (demo)
    clients.push(...demo.clients.filter((c) => !clients.some((own) => own.client_id === c.client_id)));
  const observability = createObservability(config, log);
  const server = await createGatehouseServer(config, {
    clients,
    log,
    onError: (err) => log.error({ err }, 'unexpected error'),
    outerMiddleware: observability.outerMiddleware,
    onProviderCreated: observability.onProviderCreated,
    onSigningKeysChanged: observability.onSigningKeysChanged,
    onSecurityEvent: (event) => logSecurityEvent(log, event, observability.metrics),
  });
  // Handle signals before listening: a SIGTERM during start-up (seeding hashes a password) still
  // closes the server and Redis cleanly instead of killing the process.
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.drain();
    if (config.shutdownDelay > 0) {
      // Load balancers see /readyz fail and stop routing here; connections they still open are served.
      log.info({ signal, seconds: config.shutdownDelay }, 'shutting down: /readyz fails, still serving');
      // Lines are written in batches; this one is for whoever is watching the shutdown now.
      log.flush();
      await new Promise((resolve) => setTimeout(resolve, config.shutdownDelay * 1000));
    }
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    await server.close();
    await observability.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  observability.watchStore(server.store);
  const metricsUrl = await observability.start();
  const { url } = await server.listen();
  if (metricsUrl) log.info({ url: metricsUrl }, 'metrics listening');
  log.info({ issuer: config.issuer, url, store: server.store.kind }, 'gatehouse listening');
  // Start-up lines are for whoever is starting it, now, not with the next batch.
  log.flush();
  const demoUser = demo ? await seedDemoUser(server.accounts) : undefined;
  if (demo) {
    // One short block for the person who just ran `pnpm start` (not a log line: it is for eyes).
    process.stdout.write(
      [
        '',
        `  Gatehouse is running at ${config.issuer} on the IN-PROCESS store (development only; lost on restart).`,
        ...(demoUser ? [`  Demo user:    ${demoUser.email} / ${demoUser.password}`] : []),
        '  Demo clients: demo-spa (public, PKCE, DPoP), demo-cli (device code),',
        `                demo-service (client credentials, secret ${demo.serviceSecret})`,
        '',
      ].join('\n'),
    );
  }
}

main().catch((err: unknown) => {
  const message =
    err instanceof ConfigError
      ? err.message
      : err instanceof StoreUnavailableError
        ? 'Redis is not reachable at start (check REDIS_URL / REDIS_CLUSTER_NODES)'
        : err instanceof Error
          ? err.message
          : String(err);
  console.error(`gatehouse: ${message}`);
  process.exit(1);
});
