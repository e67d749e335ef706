import { createDemoApi } from '@gatehouse/demo-api';
import { API_AUDIENCE } from '../support/audience.ts';

/** The demo API as `packages/demo-api` builds it (in-process recipe store, no web page). Env: PORT, ISSUER. */
const env = process.env as Record<string, string>;
const api = createDemoApi({ issuer: env.ISSUER!, apiUrl: API_AUDIENCE, web: false });
const server = api.listen(Number(env.PORT), '127.0.0.1');
process.on('SIGTERM', () => {
  api.close();
  server.close();
  process.exit(0);
});
