import { basic, WEB_SECRET } from '@gatehouse/testkit/clients';
import { compareLoad } from '../support/compare.ts';
import type { BenchContext } from '../support/context.ts';
import type { Figure } from '../support/figure.ts';
import { issueTokens } from '../support/sign-ins.ts';
import { round } from '../support/stats.ts';

const SCENARIO = '3 introspection';

/**
 * Scenario 3: RFC 7662 introspection by a confidential client of its own tokens: the JWT access
 * token (signature, expiry, grant still alive) and the opaque refresh token (a Redis lookup),
 * alternately.
 */
export async function introspection(ctx: BenchContext): Promise<Figure[]> {
  const [tokens] = await issueTokens({
    issuer: ctx.gatehouse.issuer,
    redisUrl: ctx.redisUrl,
    count: 1,
    clientId: 'web',
    dir: ctx.tmpDir,
  });
  const headers = {
    'content-type': 'application/x-www-form-urlencoded',
    ...basic('web', WEB_SECRET),
  };
  const url = `${ctx.gatehouse.url}/introspect`;
  const pid = ctx.gatehouse.child.pid;
  const request = (token: string) => ({ url, method: 'POST' as const, headers, body: `token=${token}`, pid });
  for (const token of [tokens!.accessToken, tokens!.refreshToken]) {
    const response = await fetch(url, { method: 'POST', headers, body: `token=${token}` });
    const body = (await response.json()) as { active?: boolean };
    if (body.active !== true)
      throw new Error(`introspection answered ${response.status} ${JSON.stringify(body)}`);
  }
  ctx.log('introspection: JWT access token vs opaque refresh token');
  const { a: jwt, b: opaque } = await compareLoad(
    ctx,
    request(tokens!.accessToken),
    request(tokens!.refreshToken),
  );
  const anchor = 'anchor: Hydra 5,109/s on 2 CPUs';
  return [
    {
      scenario: SCENARIO,
      name: 'JWT access token req/s',
      value: round(jwt.perSecond, 0),
      unit: 'req/s',
      note: `p50 ${jwt.p50} ms, p99 ${jwt.p99} ms, server CPU ${jwt.cpuMsPerRequest} ms/req; ${anchor}`,
    },
    {
      scenario: SCENARIO,
      name: 'opaque refresh token req/s',
      value: round(opaque.perSecond, 0),
      unit: 'req/s',
      note: `p50 ${opaque.p50} ms, p99 ${opaque.p99} ms, server CPU ${opaque.cpuMsPerRequest} ms/req; ${anchor}`,
    },
  ];
}
