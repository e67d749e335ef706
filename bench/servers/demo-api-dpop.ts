import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { createDemoApi } from '@gatehouse/demo-api';
import { API_AUDIENCE } from '../support/audience.ts';

/**
 * The demo API as bench/servers/demo-api.ts runs it, plus the yardstick of scenario 8: a request carrying
 * `x-bench-verify: 1` first pays one ES256 crypto.verify (of a proof-sized input), so "Bearer + one
 * signature check" is measured in the same process, under the same load, as a DPoP request. Env: PORT, ISSUER.
 */
const env = process.env as Record<string, string>;
const api = createDemoApi({ issuer: env.ISSUER!, apiUrl: API_AUDIENCE, web: false });
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signed = Buffer.from('x'.repeat(600));
const signature = sign('sha256', signed, { key: privateKey, dsaEncoding: 'ieee-p1363' });
api.middleware.unshift(async function benchVerify(ctx, next) {
  if (ctx.get('x-bench-verify') === '1') {
    if (!verify('sha256', signed, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)) ctx.throw(500);
  }
  await next();
});
const server = api.listen(Number(env.PORT), '127.0.0.1');
process.on('SIGTERM', () => {
  api.close();
  server.close();
  process.exit(0);
});
