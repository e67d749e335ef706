import autocannon, { type Options, type Result } from 'autocannon';
import type { LoadResult } from './load.ts';

/**
 * Runs one autocannon load and reports it as a {@link LoadResult}. With `untilLastResponse` (a pool run: a
 * fixed `amount` of single-use bodies) the run lasts from the start to its last response: autocannon notices
 * that `amount` is used up only on its one-second sample tick, so its own duration of a pool run is rounded up
 * to whole seconds (800 tokens in 1.3 s read as 2.03 s).
 */
export async function runAutocannon(options: Options, untilLastResponse = false): Promise<LoadResult> {
  const started = performance.now();
  let lastResponse = 0;
  const result = await new Promise<Result>((resolve, reject) => {
    const instance = autocannon(options, (err: unknown, done: Result) => (err ? reject(err) : resolve(done)));
    instance.on('response', () => {
      lastResponse = performance.now();
    });
  });
  const seconds =
    untilLastResponse && lastResponse > started ? (lastResponse - started) / 1000 : result.duration;
  return {
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    seconds,
    perSecond: result['2xx'] / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}
