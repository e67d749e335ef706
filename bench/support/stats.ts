/** Median of a non-empty list (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Rounds to `digits` significant decimals, keeping JSON and tables readable. */
export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * Runs `a` and `b` alternately (A B A B …) `rounds` times each, after one unrecorded warm-up of each.
 * Alternating spreads the noise of a shared machine over both sides instead of over one.
 */
export async function alternate<T>(
  rounds: number,
  a: (warmup: boolean) => Promise<T>,
  b: (warmup: boolean) => Promise<T>,
): Promise<{ a: T[]; b: T[] }> {
  await a(true);
  await b(true);
  const out = { a: [] as T[], b: [] as T[] };
  for (let i = 0; i < rounds; i++) {
    out.a.push(await a(false));
    out.b.push(await b(false));
  }
  return out;
}
