import { readFileSync } from 'node:fs';
import autocannon, { type Options, type Request, type Result } from 'autocannon';
import { workerMain } from '../support/child.ts';
import type { LoadResult, LoadSpec } from '../support/load.ts';

// Runs in its own process so that the load generator never shares an event loop with a server.
workerMain<LoadSpec, LoadResult>(async (spec) => {
  const bodies = spec.bodiesFile
    ? (JSON.parse(readFileSync(spec.bodiesFile, 'utf8')) as string[])
    : undefined;
  let next = 0;
  const options: Options = {
    url: spec.url,
    method: spec.method ?? 'GET',
    connections: spec.connections,
    headers: spec.headers ?? {},
    timeout: 30,
    ...(spec.body !== undefined ? { body: spec.body } : {}),
  };
  if (bodies) {
    // One body per request, each used once (a pool of single-use refresh tokens).
    options.amount = Math.min(spec.amount ?? bodies.length, bodies.length);
    options.requests = [
      {
        setupRequest: (request: Request) => ({
          ...request,
          body: bodies[Math.min(next++, bodies.length - 1)],
        }),
      },
    ];
  } else {
    options.duration = spec.durationSeconds ?? 10;
  }
  // autocannon notices that `amount` is used up only on its one-second sample tick, so its
  // duration of a pool run is rounded up to whole seconds (800 tokens in 1.3 s read as 2.03 s).
  // A pool run lasts from the start to its last response.
  const started = performance.now();
  let lastResponse = 0;
  const result = await new Promise<Result>((resolve, reject) => {
    const instance = autocannon(options, (err: unknown, done: Result) => (err ? reject(err) : resolve(done)));
    instance.on('response', () => {
      lastResponse = performance.now();
    });
  });
  const seconds = bodies && lastResponse > started ? (lastResponse - started) / 1000 : result.duration;
  return {
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    seconds,
    perSecond: result['2xx'] / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
});
