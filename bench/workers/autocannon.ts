import { readFileSync } from 'node:fs';
import type { Options, Request } from 'autocannon';
import { runAutocannon } from '../support/autocannon-run.ts';
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
  return runAutocannon(options, bodies !== undefined);
});
