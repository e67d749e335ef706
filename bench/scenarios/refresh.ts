import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { measureRound, summarize } from '../support/compare.ts';
import type { BenchContext } from '../support/context.ts';
import type { Figure } from '../support/figure.ts';
import { issueTokens } from '../support/sign-ins.ts';
import { round } from '../support/stats.ts';

const SCENARIO = '2 refresh (rotation)';

/**
 * Scenario 2: refresh grant with rotation on Redis. A pool of refresh tokens from real sign-ins,
 * each presented exactly once (a second use would be a replay and revoke its family).
 */
export async function refresh(ctx: BenchContext): Promise<Figure[]> {
  const perRound = ctx.quick ? 150 : 800;
  const warmup = ctx.quick ? 30 : 200;
  // Every token costs a full sign-in to issue: fewer, longer rounds than the fixed-body scenarios.
  const rounds = Math.min(ctx.rounds, 5);
  const total = warmup + perRound * rounds;
  ctx.log(`refresh: issuing ${total} refresh tokens through full sign-ins`);
  const pool = await issueTokens({
    issuer: ctx.gatehouse.issuer,
    redisUrl: ctx.redisUrl,
    count: total,
    clientId: 'spa',
    dir: ctx.tmpDir,
  });
  const bodies = pool.map(({ refreshToken }) =>
    new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: 'spa',
    }).toString(),
  );
  const chunks = [bodies.slice(0, warmup)];
  for (let i = 0; i < rounds; i++)
    chunks.push(bodies.slice(warmup + i * perRound, warmup + (i + 1) * perRound));
  const results = [];
  for (const [i, chunk] of chunks.entries()) {
    const bodiesFile = join(ctx.tmpDir, `refresh-${i}.json`);
    await writeFile(bodiesFile, JSON.stringify(chunk));
    const result = await measureRound(
      {
        url: `${ctx.gatehouse.url}/token`,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        bodiesFile,
        connections: ctx.connections,
      },
      ctx.gatehouse.child.pid,
    );
    if (i > 0) results.push(result);
  }
  const summary = summarize(results);
  const anchor = 120 * ctx.cpus;
  return [
    {
      scenario: SCENARIO,
      name: 'refreshes/s',
      value: round(summary.perSecond, 0),
      unit: 'tokens/s',
      note: `${rounds} rounds of ${perRound} single-use tokens; anchor: Keycloak 120/s per vCPU = ${anchor}/s on ${ctx.cpus} vCPUs (x${round(summary.perSecond / anchor)})`,
    },
    { scenario: SCENARIO, name: 'p50', value: summary.p50, unit: 'ms' },
    { scenario: SCENARIO, name: 'p99', value: summary.p99, unit: 'ms' },
    {
      scenario: SCENARIO,
      name: 'server CPU per refresh',
      value: summary.cpuMsPerRequest ?? Number.NaN,
      unit: 'ms',
      note: 'all threads of the server process, from /proc',
    },
  ];
}
