import { basic, WEB_SECRET } from '@gatehouse/testkit/clients';
import { compareLoad } from '../support/compare.ts';
import type { BenchContext } from '../support/context.ts';
import type { Figure } from '../support/figure.ts';
import { commandsPerRequest } from '../support/redis-info.ts';
import { issueTokens } from '../support/sign-ins.ts';
import { round } from '../support/stats.ts';

const SCENARIO = '3 introspection';
/** Introspections per second, each kind (issue 18). */
const TARGET = 3000;

type CommandCount = Awaited<ReturnType<typeof commandsPerRequest>>;

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
  // Deterministic where timings are not: Redis commands one introspection costs, by token kind.
  const commands: CommandCount[] = [];
  for (const token of [tokens!.accessToken, tokens!.refreshToken]) {
    commands.push(
      await commandsPerRequest(ctx.redisUrl, 100, () =>
        fetch(url, { method: 'POST', headers, body: `token=${token}` }).then((r) => r.text()),
      ),
    );
  }
  ctx.log('introspection: JWT access token vs opaque refresh token');
  const { a: jwt, b: opaque } = await compareLoad(
    ctx,
    request(tokens!.accessToken),
    request(tokens!.refreshToken),
  );
  const anchor = 'anchor: Hydra 5,109/s on 2 CPUs';
  const perSecond = (name: string, load: typeof jwt): Figure => ({
    scenario: SCENARIO,
    name,
    value: round(load.perSecond, 0),
    unit: 'req/s',
    target: `>= ${TARGET}`,
    pass: load.perSecond >= TARGET,
    note: `p50 ${load.p50} ms, p99 ${load.p99} ms, server CPU ${load.cpuMsPerRequest} ms/req (the machine-independent figure: ${TARGET}/s needs <= ${round(1000 / TARGET, 3)} ms on one core); ${anchor}`,
  });
  const redisFigure = (name: string, { total, byCommand }: (typeof commands)[number]): Figure => ({
    scenario: SCENARIO,
    name,
    value: total,
    unit: 'commands',
    note: JSON.stringify(byCommand),
  });
  return [
    perSecond('JWT access token req/s', jwt),
    perSecond('opaque refresh token req/s', opaque),
    redisFigure('Redis commands per JWT introspection', commands[0]!),
    redisFigure('Redis commands per opaque introspection', commands[1]!),
  ];
}
