import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createDemoApi } from './app.ts';
import { type DemoApiConfig, loadConfig } from './config.ts';

const logger = pino({ name: 'demo-api' });
let config: DemoApiConfig;
try {
  config = loadConfig(process.env);
} catch (err) {
  console.error(`demo-api: ${(err as Error).message}`);
  process.exit(1);
}
const redis = config.redisUrl ? new Redis(config.redisUrl) : undefined;
if (!redis) logger.warn('REDIS_URL is not set: recipes live in this process only and are lost on restart');
redis?.on('error', (err) => logger.error({ err }, 'redis error'));

const api = createDemoApi({
  issuer: config.issuer,
  apiUrl: config.apiUrl,
  ...(redis ? { redis } : {}),
  onError: (err) => logger.error({ err }, 'unhandled error'),
});
try {
  await api.prepareWebPage();
} catch (err) {
  console.error(`demo-api: the demo page does not build: ${(err as Error).message}`);
  process.exit(1);
}
const server = api.listen(config.port, () => {
  logger.info({ url: config.apiUrl, page: `${config.apiUrl}/`, issuer: config.issuer }, 'demo API listening');
});

function shutdown(signal: string) {
  logger.info({ signal }, 'shutting down');
  api.close();
  server.close(() => {
    redis?.disconnect();
    process.exit(0);
  });
  // Keep-alive connections may hold the server open; do not wait for them forever.
  setTimeout(() => process.exit(0), 5_000).unref();
}
process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));
