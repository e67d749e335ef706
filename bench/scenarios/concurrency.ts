import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serviceTokenRequest } from '../support/clients.ts';
import type { BenchContext } from '../support/context.ts';
import type { Figure } from '../support/figure.ts';
import { runLoad } from '../support/load.ts';
import { issueTokens } from '../support/sign-ins.ts';
import { median, round } from '../support/stats.ts';

const SCENARIO = '10 latency by concurrency';
const LEVELS: readonly number[] = [10, 50, 200];

/**
 * Scenario 10: how latency grows with load: client-credentials grants and refreshes (rotation) at
 * 10, 50 and 200 concurrent connections, levels interleaved round by round. Refresh tokens come from
 * real sign-ins and are each presented once.
 */
export async function concurrency(ctx: BenchContext): Promise<Figure[]> {
  const rounds = ctx.quick ? 1 : 2;
  // Every refresh token costs a sign-in to issue: a quick run refreshes at 10 and 50 connections only.
  const refreshLevels = ctx.quick ? LEVELS.filter((level) => level <= 50) : LEVELS;
  // A pool run needs at least one token per connection (autocannon refuses connections > amount).
  const tokensPerLevel = (level: number) => (ctx.quick ? Math.max(30, level) : 2 * Math.max(150, level));
  const needed = refreshLevels.reduce((sum, level) => sum + tokensPerLevel(level), 0) * rounds;
  ctx.log(`latency by concurrency: issuing ${needed} refresh tokens through sign-ins`);
  const pool = await issueTokens({
    issuer: ctx.gatehouse.issuer,
    redisUrl: ctx.redisUrl,
    count: needed,
    clientId: 'spa',
    dir: ctx.tmpDir,
  });
  let next = 0;
  const refreshBodies = async (count: number) => {
    const file = join(ctx.tmpDir, `concurrency-refresh-${next}.json`);
    const bodies = pool.slice(next, next + count).map(({ refreshToken }) =>
      new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: 'spa',
      }).toString(),
    );
    next += count;
    await writeFile(file, JSON.stringify(bodies));
    return file;
  };
  const samples = new Map<string, { p50: number[]; p99: number[]; perSecond: number[] }>();
  const keep = (key: string, result: { p50: number; p99: number; perSecond: number }) => {
    const entry = samples.get(key) ?? { p50: [], p99: [], perSecond: [] };
    samples.set(key, entry);
    entry.p50.push(result.p50);
    entry.p99.push(result.p99);
    entry.perSecond.push(result.perSecond);
  };
  // Warm-up at the middle level, unrecorded.
  await runLoad({
    url: `${ctx.gatehouse.url}/token`,
    ...serviceTokenRequest,
    connections: 50,
    durationSeconds: 1,
  });
  for (let round = 0; round < rounds; round++) {
    for (const level of LEVELS) {
      ctx.log(`latency by concurrency: round ${round + 1}, ${level} connections`);
      keep(
        `client credentials@${level}`,
        await runLoad({
          url: `${ctx.gatehouse.url}/token`,
          ...serviceTokenRequest,
          connections: level,
          durationSeconds: ctx.quick ? 1 : ctx.roundSeconds,
        }),
      );
      if (!refreshLevels.includes(level)) continue;
      keep(
        `refresh@${level}`,
        await runLoad({
          url: `${ctx.gatehouse.url}/token`,
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          bodiesFile: await refreshBodies(tokensPerLevel(level)),
          connections: level,
        }),
      );
    }
  }
  return ['client credentials', 'refresh'].flatMap((operation) =>
    LEVELS.filter((level) => samples.has(`${operation}@${level}`)).map((level): Figure => {
      const entry = samples.get(`${operation}@${level}`)!;
      return {
        scenario: SCENARIO,
        name: `${operation}, ${level} connections: p50 / p99`,
        value: median(entry.p50),
        unit: 'ms p50',
        note: `p99 ${median(entry.p99)} ms; ${round(median(entry.perSecond), 0)}/s; median of ${rounds} round(s)`,
      };
    }),
  );
}
