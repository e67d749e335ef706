import type Router from '@koa/router';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApi, startApi, startTestIssuer, type TestIssuer } from './fixtures.ts';

let issuer: TestIssuer;
let running: RunningApi;
beforeAll(async () => {
  issuer = await startTestIssuer();
  running = await startApi(issuer);
});
afterAll(async () => {
  await running.close();
  await issuer.close();
});

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** Every `METHOD /path` the app's routers serve, in OpenAPI path syntax. */
function servedOperations(): string[] {
  const operations = new Set<string>();
  for (const middleware of running.api.middleware) {
    const router = (middleware as { router?: Router }).router;
    for (const layer of router?.stack ?? []) {
      const path = String(layer.path).replace(/:(\w+)/g, '{$1}');
      for (const method of layer.methods) {
        if (METHODS.includes(method.toLowerCase())) operations.add(`${method.toLowerCase()} ${path}`);
      }
    }
  }
  return [...operations].sort();
}

describe('/openapi.json', () => {
  it('is an OpenAPI 3.1 document describing exactly the routes the app serves', async () => {
    const response = await fetch(`${running.url}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(document.openapi).toBe('3.1.0');
    const documented = Object.entries(document.paths)
      .flatMap(([path, item]) =>
        Object.keys(item)
          .filter((key) => METHODS.includes(key))
          .map((m) => `${m} ${path}`),
      )
      .sort();
    const served = servedOperations();
    expect(served.length).toBeGreaterThan(8);
    expect(documented).toEqual(served);
  });

  it('documents responses for every operation, and the RFC 6750 401 for protected ones', async () => {
    const document = (await (await fetch(`${running.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses?: Record<string, unknown>; security?: unknown[] }>>;
    };
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (!METHODS.includes(method)) continue;
        expect(Object.keys(operation.responses ?? {}).length, `${method} ${path}`).toBeGreaterThan(0);
        // Protected operations document the RFC 6750 401.
        if (operation.security?.length === 1)
          expect(operation.responses, `${method} ${path}`).toHaveProperty('401');
      }
    }
  });
});
