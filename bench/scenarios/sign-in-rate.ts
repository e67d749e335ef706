import { join } from 'node:path';
import { BENCH_DIR, runWorker } from '../support/child.ts';
import type { BenchContext } from '../support/context.ts';
import { type Figure, ratioFigure } from '../support/figure.ts';
import { BENCH_SECRET } from '../support/gatehouse-process.ts';
import { processCpuSeconds } from '../support/process-cpu.ts';
import { alternate, median, round } from '../support/stats.ts';
import type { SignInRateInput, SignInRateResult } from '../workers/sign-in-rate.ts';

const SCENARIO = '11 sign-in rate';

/**
 * Scenario 11: whole sign-ins through the pages per second (the Gatehouse process verifies one
 * argon2id password per sign-in) beside argon2id alone at the same parameters, in interleaved rounds.
 * Sign-ins run two per CPU so that the server's hashing never waits for a flow's other steps;
 * argon2 alone runs one hash per CPU, the machine's hashing capacity.
 */
export async function signInRate(ctx: BenchContext): Promise<Figure[]> {
  const worker = join(BENCH_DIR, 'workers/sign-in-rate.ts');
  const run = (input: SignInRateInput) => runWorker<SignInRateResult>(worker, input);
  const accounts = 20;
  const concurrency = 2 * ctx.cpus;
  ctx.log(
    `sign-in rate: ${accounts} accounts, then sign-ins (${concurrency} in flight) vs argon2 alone (${ctx.cpus})`,
  );
  await run({
    mode: 'accounts',
    issuer: ctx.gatehouse.issuer,
    redisUrl: ctx.redisUrl,
    secret: BENCH_SECRET,
    accounts,
  });
  const ms = ctx.quick ? 2000 : 5000;
  const rounds = ctx.quick ? 1 : 3;
  const out = await alternate(
    rounds,
    async (warmup) => {
      const pid = ctx.gatehouse.child.pid;
      const before = await processCpuSeconds(pid);
      const result = await run({
        mode: 'sign-ins',
        issuer: ctx.gatehouse.issuer,
        accounts,
        concurrency,
        ms: warmup ? 1000 : ms,
      });
      const after = await processCpuSeconds(pid);
      const serverCpuMs =
        before === undefined || after === undefined ? Number.NaN : ((after - before) * 1000) / result.count;
      return { ...result, serverCpuMs };
    },
    (warmup) => run({ mode: 'argon2', concurrency: ctx.cpus, ms: warmup ? 500 : ms }),
  );
  const signIns = median(out.a.map((r) => r.perSecond));
  const hashes = median(out.b.map((r) => r.perSecond));
  const { memoryCost, timeCost, parallelism } = out.b[0]!.parameters;
  const serverCpuMs = median(out.a.map((r) => r.serverCpuMs));
  const clientCpuMs = median(out.a.map((r) => r.cpuMsPerOp));
  const hashCpuMs = median(out.b.map((r) => r.cpuMsPerOp));
  return [
    ratioFigure(
      {
        scenario: SCENARIO,
        name: 'whole sign-ins/s (authorize → sign-in page → consent → code → token)',
        value: round(signIns, 1),
        unit: 'sign-ins/s',
        note: `vs argon2id alone ${round(hashes, 1)} hashes/s (m=${memoryCost} KiB, t=${timeCost}, p=${parallelism}, ${ctx.cpus} in flight); ${concurrency} sign-ins in flight; median of ${rounds} interleaved rounds of ${ms / 1000} s; CPU per sign-in: server ${round(serverCpuMs, 1)} ms, the client's pages and token requests ${round(clientCpuMs, 1)} ms, against ${round(hashCpuMs, 1)} ms per hash alone`,
      },
      round(signIns / hashes),
      0.7,
    ),
  ];
}
