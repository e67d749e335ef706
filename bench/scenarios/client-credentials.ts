import { join } from 'node:path';
import { freePort } from '@gatehouse/testkit';
import { BENCH_DIR, spawnNode, waitForHttp } from '../support/child.ts';
import { serviceTokenRequest } from '../support/clients.ts';
import { compareLoad } from '../support/compare.ts';
import type { BenchContext } from '../support/context.ts';
import { type Figure, ratioFigure } from '../support/figure.ts';
import { BENCH_SECRET } from '../support/gatehouse-process.ts';
import { commandsPerRequest } from '../support/redis-info.ts';
import { round } from '../support/stats.ts';

const SCENARIO = '1 client credentials';

/** Scenario 1: client-credentials grant (JWT, ES256) on Gatehouse vs bare oidc-provider. */
export async function clientCredentials(ctx: BenchContext): Promise<Figure[]> {
  const port = await freePort();
  const bare = spawnNode(join(BENCH_DIR, 'servers/bare-provider.ts'), [], {
    PORT: String(port),
    ISSUER: `http://localhost:${port}`,
    REDIS_URL: ctx.redisUrl,
    GATEHOUSE_SECRET: BENCH_SECRET,
  });
  try {
    const bareUrl = `http://127.0.0.1:${port}`;
    await waitForHttp(`${bareUrl}/.well-known/openid-configuration`, bare);
    const request = serviceTokenRequest;
    // Both must answer with an ES256 JWT for the same audience, or the comparison is meaningless.
    for (const base of [ctx.gatehouse.url, bareUrl]) {
      const response = await fetch(`${base}/token`, request);
      const body = (await response.json()) as { access_token?: string };
      const header = JSON.parse(
        Buffer.from(String(body.access_token).split('.')[0]!, 'base64url').toString(),
      );
      if (response.status !== 200 || header.alg !== 'ES256' || header.typ !== 'at+jwt') {
        throw new Error(`${base}/token answered ${response.status} ${JSON.stringify(body)}`);
      }
    }
    // Deterministic where timings are not: Redis round trips one grant costs on each server.
    const commands = [];
    for (const base of [ctx.gatehouse.url, bareUrl]) {
      commands.push(
        await commandsPerRequest(ctx.redisUrl, 100, () =>
          fetch(`${base}/token`, request).then((r) => r.text()),
        ),
      );
    }
    ctx.log('client credentials: Gatehouse vs bare oidc-provider');
    const { a: gatehouse, b: baseline } = await compareLoad(
      ctx,
      { url: `${ctx.gatehouse.url}/token`, ...request, pid: ctx.gatehouse.child.pid },
      { url: `${bareUrl}/token`, ...request, pid: bare.child.pid },
    );
    const ratio = round(gatehouse.perSecond / baseline.perSecond);
    return [
      ratioFigure(
        {
          scenario: SCENARIO,
          name: 'Gatehouse tokens/s',
          value: round(gatehouse.perSecond, 0),
          unit: 'tokens/s',
          note: `vs bare oidc-provider ${round(baseline.perSecond, 0)}/s; anchors: Keycloak 120/s per vCPU, Hydra 513/s on 2 CPUs`,
        },
        ratio,
        0.9,
      ),
      ...cpuFigures(gatehouse.cpuMsPerRequest, baseline.cpuMsPerRequest),
      {
        scenario: SCENARIO,
        name: 'Gatehouse Redis commands per grant',
        value: commands[0]!.total,
        unit: 'commands',
        note: `${JSON.stringify(commands[0]!.byCommand)}; bare oidc-provider: ${commands[1]!.total}`,
      },
      {
        scenario: SCENARIO,
        name: 'Gatehouse p50',
        value: gatehouse.p50,
        unit: 'ms',
        note: `bare ${baseline.p50} ms`,
      },
      {
        scenario: SCENARIO,
        name: 'Gatehouse p99',
        value: gatehouse.p99,
        unit: 'ms',
        note: `bare ${baseline.p99} ms`,
      },
      {
        scenario: SCENARIO,
        name: 'bare oidc-provider tokens/s',
        value: round(baseline.perSecond, 0),
        unit: 'tokens/s',
      },
      { scenario: SCENARIO, name: 'bare oidc-provider p50', value: baseline.p50, unit: 'ms' },
      { scenario: SCENARIO, name: 'bare oidc-provider p99', value: baseline.p99, unit: 'ms' },
    ];
  } finally {
    await bare.stop();
  }
}

/** CPU per token of both servers and their ratio (bare / Gatehouse: 1 means Gatehouse costs nothing extra). */
function cpuFigures(gatehouse: number | undefined, bare: number | undefined): Figure[] {
  if (gatehouse === undefined || bare === undefined) return [];
  return [
    {
      scenario: SCENARIO,
      name: 'Gatehouse server CPU per token',
      value: gatehouse,
      unit: 'ms',
      ratio: round(bare / gatehouse),
      target: '>= 0.9',
      pass: bare / gatehouse >= 0.9,
      note: `bare oidc-provider ${bare} ms; ratio = bare/Gatehouse, from /proc CPU time (less noisy than tokens/s)`,
    },
  ];
}
