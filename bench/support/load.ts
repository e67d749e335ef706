import { join } from 'node:path';
import { BENCH_DIR, runWorker } from './child.ts';

/** What one autocannon run sends. */
export interface LoadSpec {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** JSON file with an array of bodies, each sent exactly once (the run ends when they are used up). */
  readonly bodiesFile?: string;
  readonly amount?: number;
  readonly connections: number;
  /** Run length for a fixed-body run. */
  readonly durationSeconds?: number;
}

export interface LoadResult {
  /** 2xx responses. */
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly seconds: number;
  /** 2xx responses per second. */
  readonly perSecond: number;
  /** Latency percentiles in milliseconds. */
  readonly p50: number;
  readonly p99: number;
}

/** Runs autocannon in a separate process against a server in yet another process. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const result = await runWorker<LoadResult>(join(BENCH_DIR, 'workers/autocannon.ts'), spec);
  const total = result.ok + result.non2xx + result.errors;
  // A benchmark of error responses measures nothing; a few stragglers at the end are tolerated.
  if (result.ok === 0 || (result.non2xx + result.errors) / Math.max(1, total) > 0.01) {
    throw new Error(
      `${spec.method ?? 'GET'} ${spec.url}: ${result.ok} ok, ${result.non2xx} non-2xx, ${result.errors} errors`,
    );
  }
  return result;
}
