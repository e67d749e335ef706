import { readFileSync } from 'node:fs';
import autocannon, { type Options, type Request } from 'autocannon';
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
  const result = await autocannon(options);
  const seconds = result.duration;
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
