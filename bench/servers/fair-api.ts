import { createAccessTokenVerifier } from '@gatehouse/resource';
import { requireAccessToken } from '@gatehouse/resource/koa';
import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import { API_AUDIENCE } from '../support/audience.ts';

/**
 * The fair price of authentication (scenario 4): one Koa app, one router, one handler mounted three
 * times: `/open` without authentication, `/cached` behind `requireAccessToken` with the verifier's
 * defaults (result cache on), `/uncached` behind `requireAccessToken` with `cache: false`, so every
 * request checks the signature. Env: PORT, ISSUER.
 */
const env = process.env as Record<string, string>;
const cached = createAccessTokenVerifier({ issuer: env.ISSUER!, audience: API_AUDIENCE });
const uncached = createAccessTokenVerifier({ issuer: env.ISSUER!, audience: API_AUDIENCE, cache: false });

const handler = (ctx: Context) => {
  ctx.body = { ok: true };
};
const router = new Router();
router.get('/open', handler);
router.get('/cached', requireAccessToken({ verifier: cached }), handler);
router.get('/uncached', requireAccessToken({ verifier: uncached }), handler);
const app = new Koa();
app.use(router.routes());
const server = app.listen(Number(env.PORT), '127.0.0.1');
process.on('SIGTERM', () => {
  cached.close();
  uncached.close();
  server.close();
  process.exit(0);
});
