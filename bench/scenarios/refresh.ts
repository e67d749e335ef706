import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '@gatehouse/testkit';
import { decodeProtectedHeader } from 'jose';
import { BENCH_DIR, spawnNode, waitForHttp } from '../support/child.ts';
import { measureRound, summarize } from '../support/compare.ts';
import type { BenchContext } from '../support/context.ts';
import { type Figure, ratioFigure } from '../support/figure.ts';
import { BENCH_SECRET } from '../support/gatehouse-process.ts';
import { commandsPerRequest } from '../support/redis-info.ts';
import { issueTokens } from '../support/sign-ins.ts';
import { alternate, round } from '../support/stats.ts';

const SCENARIO = '2 refresh (rotation)';

/** The `alg` of a JWS's protected header; `none` when there is no token. */
const joseAlg = (jws: string | undefined) =>
  jws === undefined ? 'none' : String(decodeProtectedHeader(jws).alg);

/** CPU milliseconds of one JWS signature (WebCrypto, as jose signs in oidc-provider) with each ID token algorithm. */
async function idTokenSignatureCpu(count: number): Promise<Record<'RS256' | 'ES256', number>> {
  const { subtle } = globalThis.crypto;
  const rsa = await subtle.generateKey(
    {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
    false,
    ['sign'],
  );
  const ec = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  // About an ID token's signing input.
  const input = new Uint8Array(600).fill(0x41);
  const cpuMs = async (sign: () => Promise<ArrayBuffer>) => {
    await sign();
    const started = process.cpuUsage();
    for (let i = 0; i < count; i++) await sign();
    const used = process.cpuUsage(started);
    return (used.user + used.system) / 1000 / count;
  };
  return {
    RS256: await cpuMs(() => subtle.sign({ name: 'RSASSA-PKCS1-v1_5' }, rsa.privateKey, input)),
    ES256: await cpuMs(() => subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, ec.privateKey, input)),
  };
}

const refreshBody = (refreshToken: string) =>
  new URLSearchParams({
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: 'spa',
  }).toString();

/**
 * Scenario 2: refresh grant with rotation, Gatehouse vs a bare oidc-provider on the minimal
 * non-atomic Redis adapter (bench/servers), rounds interleaved on the same Redis. Each side has a
 * pool of single-use refresh tokens (a second use would be a replay and revoke its family):
 * Gatehouse's from real sign-ins, the bare provider's written through its own models at start
 * (it has no sign-in pages; see issueRefreshPool). Both are session-bound, resource-bound tokens
 * of the public `spa` client with `openid recipes:read`, so both refreshes look up the session,
 * the grant and the account, consume the old token, save the new one and sign an ES256 access
 * token and an RS256 ID token (the OIDC default for a client that registers no algorithm; checked
 * to be the same on both sides). The ratio is the price of atomic rotation, replay detection and the rest of
 * Gatehouse's token endpoint.
 */
export async function refresh(ctx: BenchContext): Promise<Figure[]> {
  // Quick mode keeps the whole `--quick` under two minutes: every Gatehouse token is a sign-in.
  const perRound = ctx.quick ? 60 : 800;
  const warmup = ctx.quick ? 20 : 200;
  // Tokens per side spent on counting Redis commands (one refresh at a time, nothing else running).
  const counted = ctx.quick ? 10 : 20;
  // Every Gatehouse token costs a full sign-in to issue: fewer, longer rounds than the fixed-body scenarios.
  const rounds = Math.min(ctx.rounds, 5);
  const total = counted + warmup + perRound * rounds;
  ctx.log(
    `refresh: issuing ${total} refresh tokens through full sign-ins, and ${total} on bare oidc-provider`,
  );
  const port = await freePort();
  const bareFile = join(ctx.tmpDir, 'bare-refresh-tokens.json');
  const bare = spawnNode(join(BENCH_DIR, 'servers/bare-provider.ts'), [], {
    PORT: String(port),
    ISSUER: `http://localhost:${port}`,
    REDIS_URL: ctx.redisUrl,
    GATEHOUSE_SECRET: BENCH_SECRET,
    REFRESH_POOL: String(total),
    REFRESH_POOL_FILE: bareFile,
  });
  try {
    const pool = await issueTokens({
      issuer: ctx.gatehouse.issuer,
      redisUrl: ctx.redisUrl,
      count: total,
      clientId: 'spa',
      dir: ctx.tmpDir,
    });
    const bareUrl = `http://127.0.0.1:${port}`;
    await waitForHttp(`${bareUrl}/.well-known/openid-configuration`, bare, 300_000);
    const sides = {
      gatehouse: {
        url: ctx.gatehouse.url,
        pid: ctx.gatehouse.child.pid,
        bodies: pool.map((t) => refreshBody(t.refreshToken)),
      },
      bare: {
        url: bareUrl,
        pid: bare.child.pid,
        bodies: (JSON.parse(await readFile(bareFile, 'utf8')) as string[]).map(refreshBody),
      },
    };

    // Deterministic where timings are not: Redis commands of one refresh on each side.
    const commands: Record<string, Awaited<ReturnType<typeof commandsPerRequest>>> = {};
    // What each side signs per refresh (the JOSE algs of its access token and ID token): the same on both.
    const signed: Record<string, string> = {};
    for (const [name, side] of Object.entries(sides)) {
      let next = 0;
      commands[name] = await commandsPerRequest(ctx.redisUrl, counted, async () => {
        const response = await fetch(`${side.url}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: side.bodies[next++] ?? '',
        });
        const text = await response.text();
        if (response.status !== 200) throw new Error(`${name} refresh answered ${response.status} ${text}`);
        const { access_token, id_token } = JSON.parse(text) as Record<string, string | undefined>;
        signed[name] = `access token ${joseAlg(access_token)}, ID token ${joseAlg(id_token)}`;
      });
    }
    if (signed.gatehouse !== signed.bare) {
      throw new Error(`the sides sign different tokens: Gatehouse ${signed.gatehouse}, bare ${signed.bare}`);
    }

    const runner = (side: (typeof sides)['gatehouse'], label: string) => {
      let used = counted;
      let chunk = 0;
      return async (isWarmup: boolean) => {
        const size = isWarmup ? warmup : perRound;
        const bodiesFile = join(ctx.tmpDir, `refresh-${label}-${chunk++}.json`);
        await writeFile(bodiesFile, JSON.stringify(side.bodies.slice(used, used + size)));
        used += size;
        return measureRound(
          {
            url: `${side.url}/token`,
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            bodiesFile,
            connections: ctx.connections,
          },
          side.pid,
        );
      };
    };
    ctx.log('refresh: Gatehouse vs bare oidc-provider, interleaved rounds');
    const out = await alternate(rounds, runner(sides.gatehouse, 'gatehouse'), runner(sides.bare, 'bare'));
    const gatehouse = summarize(out.a);
    const baseline = summarize(out.b);
    const anchor = 120 * ctx.cpus;
    const g = commands.gatehouse!;
    const b = commands.bare!;
    const figures: Figure[] = [
      ratioFigure(
        {
          scenario: SCENARIO,
          name: 'refreshes/s',
          value: round(gatehouse.perSecond, 0),
          unit: 'tokens/s',
          note: `vs bare oidc-provider on a non-atomic Redis adapter ${round(baseline.perSecond, 0)}/s (ratio); ${rounds} interleaved rounds of ${perRound} single-use tokens per side; anchor: Keycloak 120/s per vCPU = ${anchor}/s on ${ctx.cpus} vCPUs (x${round(gatehouse.perSecond / anchor)})`,
        },
        round(gatehouse.perSecond / baseline.perSecond),
        0.8,
      ),
      {
        scenario: SCENARIO,
        name: 'refreshes/s (absolute)',
        value: round(gatehouse.perSecond, 0),
        unit: 'tokens/s',
        target: '>= 1000',
        pass: gatehouse.perSecond >= 1000,
        note: 'on an idle 2-vCPU machine; on a loaded one read the ratio and the CPU per refresh',
      },
      { scenario: SCENARIO, name: 'p50', value: gatehouse.p50, unit: 'ms', note: `bare ${baseline.p50} ms` },
      { scenario: SCENARIO, name: 'p99', value: gatehouse.p99, unit: 'ms', note: `bare ${baseline.p99} ms` },
      {
        scenario: SCENARIO,
        name: 'Gatehouse Redis commands per refresh',
        value: g.total,
        unit: 'commands',
        note: `${JSON.stringify(g.byCommand)} (commands inside Lua scripts counted too); 7 round trips: refresh token, session uid + session, grant, account (its email key remembered by id), consume, write + grant admission (one pipelined round trip)`,
      },
      {
        scenario: SCENARIO,
        name: 'bare oidc-provider Redis commands per refresh',
        value: b.total,
        unit: 'commands',
        note: `${JSON.stringify(b.byCommand)}; no atomic consume (GET + TTL + MULTI rewrite), no replay detection`,
      },
      {
        scenario: SCENARIO,
        name: 'bare oidc-provider refreshes/s',
        value: round(baseline.perSecond, 0),
        unit: 'tokens/s',
      },
    ];
    const signatures = await idTokenSignatureCpu(ctx.quick ? 50 : 300);
    figures.push({
      scenario: SCENARIO,
      name: 'ID token signature, CPU',
      value: round(signatures.RS256, 3),
      unit: 'ms',
      note: `RS256 (RSA-2048, what a refresh and a code exchange sign for a client on the OIDC default) vs ES256 ${round(signatures.ES256, 3)} ms, WebCrypto as oidc-provider signs, CPU time in this process: a client that registers id_token_signed_response_alg ES256 costs the server ${round(signatures.RS256 - signatures.ES256, 2)} ms less per refresh and per sign-in`,
    });
    if (gatehouse.cpuMsPerRequest !== undefined && baseline.cpuMsPerRequest !== undefined) {
      figures.push({
        scenario: SCENARIO,
        name: 'server CPU per refresh',
        value: gatehouse.cpuMsPerRequest,
        unit: 'ms',
        ratio: round(baseline.cpuMsPerRequest / gatehouse.cpuMsPerRequest),
        target: '>= 0.8',
        pass: baseline.cpuMsPerRequest / gatehouse.cpuMsPerRequest >= 0.8,
        note: `bare oidc-provider ${baseline.cpuMsPerRequest} ms; ratio = bare/Gatehouse, all threads of the server process, from /proc`,
      });
    }
    return figures;
  } finally {
    await bare.stop();
  }
}
