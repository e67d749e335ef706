import type { BenchContext } from './context.ts';
import { type LoadResult, type LoadSpec, runLoad } from './load.ts';
import { processCpuSeconds } from './process-cpu.ts';
import { alternate, median } from './stats.ts';

export interface LoadSummary {
  /** Medians over the measured rounds. */
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  /**
   * Server CPU milliseconds per 2xx response (all threads of the server process, from /proc):
   * much less sensitive than throughput to what else the shared machine is running.
   */
  readonly cpuMsPerRequest: number | undefined;
  readonly rounds: readonly MeasuredRound[];
}

export interface MeasuredRound extends LoadResult {
  readonly cpuMsPerRequest?: number;
}

export function summarize(rounds: readonly MeasuredRound[]): LoadSummary {
  const cpu = rounds.flatMap((r) => (r.cpuMsPerRequest === undefined ? [] : [r.cpuMsPerRequest]));
  return {
    perSecond: median(rounds.map((r) => r.perSecond)),
    p50: median(rounds.map((r) => r.p50)),
    p99: median(rounds.map((r) => r.p99)),
    cpuMsPerRequest: cpu.length > 0 ? Math.round(median(cpu) * 1000) / 1000 : undefined,
    rounds,
  };
}

/** One load run, with the CPU the server process `pid` spent on it. */
export async function measureRound(spec: LoadSpec, pid?: number): Promise<MeasuredRound> {
  const before = await processCpuSeconds(pid);
  const result = await runLoad(spec);
  const after = await processCpuSeconds(pid);
  if (before === undefined || after === undefined) return result;
  return { ...result, cpuMsPerRequest: ((after - before) * 1000) / result.ok };
}

/** Loads two endpoints alternately (warm-up each, then A B A B …) and returns both medians. */
export async function compareLoad(
  ctx: BenchContext,
  a: Omit<LoadSpec, 'connections' | 'durationSeconds'> & { pid?: number | undefined },
  b: Omit<LoadSpec, 'connections' | 'durationSeconds'> & { pid?: number | undefined },
): Promise<{ a: LoadSummary; b: LoadSummary }> {
  const warmupSeconds = ctx.quick ? 1 : 3;
  const run =
    ({ pid, ...spec }: typeof a) =>
    (warmup: boolean) =>
      measureRound(
        { ...spec, connections: ctx.connections, durationSeconds: warmup ? warmupSeconds : ctx.roundSeconds },
        pid,
      );
  const out = await alternate(ctx.rounds, run(a), run(b));
  return { a: summarize(out.a), b: summarize(out.b) };
}
