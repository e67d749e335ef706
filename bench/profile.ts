/**
 * `node bench/profile.ts [client-credentials|introspection|refresh|demo-api|sign-in] [seconds]`: CPU profiles
 * (`node --cpu-prof`) summarized by package and function, to explain a ratio of the bench:
 * - `client-credentials`: Gatehouse and bare oidc-provider under the same grant load (scenario 1);
 * - `introspection`: Gatehouse introspecting a JWT access token, then an opaque refresh token (scenario 3);
 * - `refresh`: Gatehouse and bare oidc-provider rotating single-use refresh tokens (scenario 2;
 *   `seconds` is then a token count per side, 2,000 by default);
 * - `demo-api`: the demo API under authenticated `GET /me` and under `GET /health` (scenario 4);
 * - `sign-in`: Gatehouse under whole sign-ins through the pages (scenario 11).
 * Profiles are kept in bench/results/profile-NAME/ (git-ignored).
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, startRedis } from '@gatehouse/testkit';
import { basic, WEB_SECRET } from '@gatehouse/testkit/clients';
import { BENCH_DIR, runWorker, spawnNode, waitForHttp } from './support/child.ts';
import { serviceTokenRequest } from './support/clients.ts';
import { summarizeProfile } from './support/cpu-profile.ts';
import { BENCH_SECRET, startGatehouseProcess } from './support/gatehouse-process.ts';
import { type LoadSpec, runLoad } from './support/load.ts';
import { issueTokens } from './support/sign-ins.ts';
import type { SignInRateInput, SignInRateResult } from './workers/sign-in-rate.ts';

const target = process.argv[2] ?? 'client-credentials';
const seconds = Number(process.argv[3] ?? 10);
const out = join(BENCH_DIR, 'results');
await mkdir(out, { recursive: true });
const tokenRequest = serviceTokenRequest;

type Load = Omit<LoadSpec, 'url' | 'connections' | 'durationSeconds'> & { path: string };
type Started = { url: string; stop(): Promise<void> };

async function profiled(name: string, start: (flags: string[]) => Promise<Started>, load: Load) {
  const dir = join(out, `profile-${name}`);
  await rm(dir, { recursive: true, force: true });
  const server = await start(['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  const { path, ...spec } = load;
  const result = await runLoad({
    url: `${server.url}${path}`,
    ...spec,
    connections: 16,
    durationSeconds: seconds,
  });
  await server.stop();
  const [file] = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const summary = await summarizeProfile(join(dir, file!));
  return {
    name,
    perSecond: Math.round(result.perSecond),
    requests: result.ok,
    profile: join(dir, file!),
    ...summary,
  };
}

async function startChild(script: string, env: Record<string, string>, ready: string, flags: string[]) {
  const port = await freePort();
  const child = spawnNode(join(BENCH_DIR, script), [], { PORT: String(port), ...env }, flags);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}${ready}`, child);
  return { url, stop: () => child.stop() };
}

async function clientCredentialsRuns(redisUrl: string) {
  const load = { path: '/token', ...tokenRequest };
  const gatehouse = await profiled('gatehouse', (flags) => startGatehouseProcess({ redisUrl, flags }), load);
  const bare = await profiled(
    'bare-oidc-provider',
    async (flags) => {
      const port = await freePort();
      const env = { ISSUER: `http://localhost:${port}`, REDIS_URL: redisUrl, GATEHOUSE_SECRET: BENCH_SECRET };
      const child = spawnNode(
        join(BENCH_DIR, 'servers/bare-provider.ts'),
        [],
        { PORT: String(port), ...env },
        flags,
      );
      const url = `http://127.0.0.1:${port}`;
      await waitForHttp(`${url}/.well-known/openid-configuration`, child);
      return { url, stop: () => child.stop() };
    },
    load,
  );
  return [gatehouse, bare];
}

async function demoApiRuns(redisUrl: string) {
  const gatehouse = await startGatehouseProcess({ redisUrl });
  try {
    const response = await fetch(`${gatehouse.url}/token`, tokenRequest);
    const { access_token: token } = (await response.json()) as { access_token: string };
    const startApi = (flags: string[]) =>
      startChild('servers/demo-api.ts', { ISSUER: gatehouse.issuer }, '/health', flags);
    return [
      await profiled('demo-api-me', startApi, { path: '/me', headers: { authorization: `Bearer ${token}` } }),
      await profiled('demo-api-health', startApi, { path: '/health' }),
    ];
  } finally {
    await gatehouse.stop();
  }
}

async function introspectionRuns(redisUrl: string) {
  // Tokens issued by one instance are valid on the profiled one: same Redis, same secret, same keys.
  const issuer = await startGatehouseProcess({ redisUrl });
  const dir = join(out, 'profile-introspection-tokens');
  await mkdir(dir, { recursive: true });
  let tokens: Awaited<ReturnType<typeof issueTokens>>[number];
  try {
    [tokens] = (await issueTokens({ issuer: issuer.issuer, redisUrl, count: 1, clientId: 'web', dir })) as [
      typeof tokens,
    ];
  } finally {
    await issuer.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const headers = { 'content-type': 'application/x-www-form-urlencoded', ...basic('web', WEB_SECRET) };
  const start = (flags: string[]) =>
    startGatehouseProcess({ redisUrl, flags, env: { ISSUER: issuer.issuer } });
  const load = (token: string) => ({
    path: '/introspect',
    method: 'POST' as const,
    headers,
    body: `token=${token}`,
  });
  return [
    await profiled('introspection-jwt', start, load(tokens.accessToken)),
    await profiled('introspection-opaque', start, load(tokens.refreshToken)),
  ];
}

/** Pools of refresh tokens for each side (as scenario 2), then each server profiled rotating its own. */
async function refreshRuns(redisUrl: string) {
  const count = Number(process.argv[3] ?? 2000);
  const body = (token: string) =>
    new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token, client_id: 'spa' }).toString();
  const load = (file: string): Load => ({
    path: '/token',
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    bodiesFile: file,
  });
  // Issued by an unprofiled instance on the same Redis: the profile holds the refreshes only.
  const issuer = await startGatehouseProcess({ redisUrl });
  const pool = await issueTokens({ issuer: issuer.issuer, redisUrl, count, clientId: 'spa', dir: out });
  await issuer.stop();
  const gatehouseFile = join(out, 'profile-refresh-gatehouse.json');
  await writeFile(gatehouseFile, JSON.stringify(pool.map((t) => body(t.refreshToken))));
  const gatehouse = await profiled(
    'gatehouse-refresh',
    (flags) => startGatehouseProcess({ redisUrl, flags }),
    load(gatehouseFile),
  );
  const bareTokens = join(out, 'profile-refresh-bare-tokens.json');
  const bareFile = join(out, 'profile-refresh-bare.json');
  const bare = await profiled(
    'bare-oidc-provider-refresh',
    async (flags) => {
      const port = await freePort();
      const env = {
        ISSUER: `http://localhost:${port}`,
        REDIS_URL: redisUrl,
        GATEHOUSE_SECRET: BENCH_SECRET,
        REFRESH_POOL: String(count),
        REFRESH_POOL_FILE: bareTokens,
      };
      const child = spawnNode(
        join(BENCH_DIR, 'servers/bare-provider.ts'),
        [],
        { PORT: String(port), ...env },
        flags,
      );
      const url = `http://127.0.0.1:${port}`;
      await waitForHttp(`${url}/.well-known/openid-configuration`, child, 300_000);
      const tokens = JSON.parse(await readFile(bareTokens, 'utf8')) as string[];
      await writeFile(bareFile, JSON.stringify(tokens.map(body)));
      return { url, stop: () => child.stop() };
    },
    load(bareFile),
  );
  return [gatehouse, bare];
}

async function signInRuns(redisUrl: string) {
  const dir = join(out, 'profile-gatehouse-sign-in');
  await rm(dir, { recursive: true, force: true });
  const gatehouse = await startGatehouseProcess({ redisUrl, flags: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
  let result: SignInRateResult;
  try {
    result = await runWorker<SignInRateResult>(join(BENCH_DIR, 'workers/sign-in-rate.ts'), {
      issuer: gatehouse.issuer,
      redisUrl,
      secret: BENCH_SECRET,
      serverPid: gatehouse.child.pid,
      accounts: 20,
      concurrency: 4,
      hashConcurrency: 1,
      ms: seconds * 1000,
      warmupMs: 500,
      rounds: 1,
      stepSignIns: 0,
    } satisfies SignInRateInput);
  } finally {
    await gatehouse.stop();
  }
  const [file] = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const summary = await summarizeProfile(join(dir, file!));
  const perSecond = Math.round(result.signIns[0]!.perSecond);
  return [
    {
      name: 'gatehouse-sign-in',
      perSecond,
      requests: Math.max(1, Math.round(result.signIns[0]!.perSecond * seconds)),
      profile: join(dir, file!),
      ...summary,
    },
  ];
}

const redis = await startRedis();
try {
  const runs =
    target === 'demo-api'
      ? await demoApiRuns(redis.url)
      : target === 'introspection'
        ? await introspectionRuns(redis.url)
        : target === 'refresh'
          ? await refreshRuns(redis.url)
          : target === 'sign-in'
            ? await signInRuns(redis.url)
            : await clientCredentialsRuns(redis.url);
  const write = (line: string) => process.stdout.write(`${line}\n`);
  for (const run of runs) {
    // CPU per request from the profile: what one request costs, whatever else the machine ran.
    const perRequest = run.totalMs / run.requests;
    write(
      `\n## ${run.name}: ${run.perSecond} req/s, ${run.totalMs} ms CPU on the main thread (${perRequest.toFixed(3)} ms/request)`,
    );
    write(run.profile);
    write('\nself time by area:');
    for (const a of run.byArea) write(`  ${String(a.percent).padStart(5)}%  ${a.ms} ms  ${a.area}`);
    write('\ntop functions (self):');
    for (const f of run.topFunctions) write(`  ${String(f.percent).padStart(5)}%  ${f.ms} ms  ${f.name}`);
    write('\nworkspace frames (inclusive):');
    for (const f of run.inclusiveWorkspace)
      write(`  ${String(f.percent).padStart(5)}%  ${f.ms} ms  ${f.name}`);
  }
} finally {
  await redis.cleanup();
}
