/** One HTTP answer observed by a load loop. */
export interface Observation {
  readonly kind: string;
  readonly status: number;
  /** performance.now() when the request started and when its answer arrived. */
  readonly start: number;
  readonly end: number;
  readonly retryAfter: string | null;
  readonly contentType: string | null;
  /** The OAuth `error` of a JSON body, or of a redirect's query. */
  readonly error?: string;
  /** A redirect's Location. */
  readonly location?: string;
}

/** Milliseconds at the given percentile (0–100) of `values`, nearest-rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** `p50/p95/p99/max` of latencies in ms, for logs. */
export function latencySummary(latencies: readonly number[]): string {
  const f = (n: number) => n.toFixed(1);
  return `n=${latencies.length} p50=${f(percentile(latencies, 50))} p95=${f(percentile(latencies, 95))} p99=${f(percentile(latencies, 99))} max=${f(Math.max(...latencies))} ms`;
}

/** Counts of each status, e.g. `{ "200": 120, "503": 40 }`. */
export function statusCounts(observations: readonly { readonly status: number }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of observations) counts[o.status] = (counts[o.status] ?? 0) + 1;
  return counts;
}

/** Polls `probe` until it returns true or `timeoutMs` passes; resolves whether it succeeded. */
export async function pollUntil(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Megabytes with one decimal, for measurement logs. */
export function mb(bytes: number | undefined): string {
  return bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
