import { createPublicKey, type JsonWebKey, type KeyObject, verify } from 'node:crypto';
import { createAccessTokenVerifier } from '@gatehouse/resource';
import { requireAccessToken } from '@gatehouse/resource/koa';
import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import { API_AUDIENCE } from '../support/audience.ts';

/**
 * The fair price of authentication (scenario 4): one Koa app, one router, one handler mounted four
 * times: `/open` without authentication, `/cached` behind `requireAccessToken` with the verifier's
 * defaults (result cache on), `/uncached` behind `requireAccessToken` with `cache: false`, so every
 * request checks the signature, and `/signature` behind the yardstick: one ES256 `crypto.verify` of the
 * presented token's signature and nothing else (no claims, no verdict), so that the price of an uncached
 * verification is compared with one signature check in the same process under the same load. Env: PORT, ISSUER.
 */
const env = process.env as Record<string, string>;
const cached = createAccessTokenVerifier({ issuer: env.ISSUER!, audience: API_AUDIENCE });
const uncached = createAccessTokenVerifier({ issuer: env.ISSUER!, audience: API_AUDIENCE, cache: false });

/** The issuer's signing keys by `kid`, fetched once: the yardstick needs no rotation. */
async function issuerKeys(issuer: string): Promise<Map<string, KeyObject>> {
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
    jwks_uri: string;
  };
  const { keys } = (await (await fetch(discovery.jwks_uri)).json()) as {
    keys: ({ kid: string } & JsonWebKey)[];
  };
  return new Map(keys.map((jwk) => [String(jwk.kid), createPublicKey({ key: jwk, format: 'jwk' })]));
}
const keys = await issuerKeys(env.ISSUER!);

/** One ES256 signature check of the Bearer token (RFC 7518 §3.4: R || S), then the handler. */
const oneSignatureCheck = async (ctx: Context, next: () => Promise<unknown>) => {
  const token = ctx.get('authorization').slice('Bearer '.length);
  const firstDot = token.indexOf('.');
  const secondDot = token.lastIndexOf('.');
  const { kid } = JSON.parse(Buffer.from(token.slice(0, firstDot), 'base64url').toString()) as {
    kid: string;
  };
  const key = keys.get(kid);
  const valid =
    key !== undefined &&
    verify(
      'sha256',
      Buffer.from(token.slice(0, secondDot), 'latin1'),
      { key, dsaEncoding: 'ieee-p1363' },
      Buffer.from(token.slice(secondDot + 1), 'base64url'),
    );
  if (!valid) ctx.throw(401);
  await next();
};

const handler = (ctx: Context) => {
  ctx.body = { ok: true };
};
const router = new Router();
router.get('/open', handler);
router.get('/cached', requireAccessToken({ verifier: cached }), handler);
router.get('/uncached', requireAccessToken({ verifier: uncached }), handler);
router.get('/signature', oneSignatureCheck, handler);
const app = new Koa();
app.use(router.routes());
const server = app.listen(Number(env.PORT), '127.0.0.1');
process.on('SIGTERM', () => {
  cached.close();
  uncached.close();
  server.close();
  process.exit(0);
});
