import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.ts';
import { requestLogger } from '../../src/observability/request-log.ts';

describe('requestLogger', () => {
  const lines: Record<string, unknown>[] = [];
  let url: string;
  let close: () => void;

  beforeAll(async () => {
    const app = new Koa();
    app.silent = true;
    const log = createLogger(
      { env: 'test' },
      { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
      { level: 'debug' },
    );
    app.use(requestLogger(log));
    const pages = new Router();
    pages.use(async (_ctx, next) => next());
    pages.post('/interaction/:uid/login', (ctx) => {
      ctx.status = 303;
      ctx.redirect('/done');
    });
    app.use(pages.routes() as Koa.Middleware);
    app.use(async (ctx, next) => {
      if (ctx.path === '/boom') throw new Error('boom');
      if (ctx.path === '/healthz') {
        ctx.body = { status: 'ok' };
        return;
      }
      if (ctx.path.startsWith('/things/')) {
        ctx.body = { ok: true };
        return;
      }
      await next();
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => close?.());

  const last = () => lines.at(-1) ?? {};

  it('generates a request id, returns it as X-Request-Id and logs it', async () => {
    const response = await fetch(`${url}/things/abcdefghijklmnopqrstuv?code=xyz`);
    const id = response.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(last()).toMatchObject({
      requestId: id,
      method: 'GET',
      route: '/things/:id',
      status: 200,
      msg: 'request',
    });
    expect(JSON.stringify(last())).not.toContain('xyz');
  });

  it('keeps a sane incoming X-Request-Id and replaces one that is not', async () => {
    const kept = await fetch(url, { headers: { 'x-request-id': 'proxy-1234.abc:5' } });
    expect(kept.headers.get('x-request-id')).toBe('proxy-1234.abc:5');
    expect(last().requestId).toBe('proxy-1234.abc:5');
    for (const bad of ['has space', 'x'.repeat(200), 'quote"brace{}']) {
      const replaced = await fetch(url, { headers: { 'x-request-id': bad } });
      expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(JSON.stringify(last())).not.toContain(bad);
    }
  });

  it('logs successful health probes at debug, everything else at info or above', async () => {
    await fetch(`${url}/healthz`);
    expect(last()).toMatchObject({ route: '/healthz', status: 200, level: 20 });
    await fetch(`${url}/things/abcdefghijklmnopqrstuv`);
    expect(last()).toMatchObject({ status: 200, level: 30 });
  });

  it('names router routes by their template, never by the uid in the path', async () => {
    await fetch(`${url}/interaction/Xy7_abcdefghijklmnopq/login?x=1`, { method: 'POST', redirect: 'manual' });
    expect(last()).toMatchObject({ method: 'POST', route: '/interaction/:uid/login', status: 303 });
  });

  it('logs 404s as "unmatched" and an escaped error as a 500 at error level', async () => {
    await fetch(`${url}/scanner/probe/wp-login.php`);
    expect(last()).toMatchObject({ route: 'unmatched', status: 404, level: 30 });
    const response = await fetch(`${url}/boom`);
    expect(response.status).toBe(500);
    expect(last()).toMatchObject({ route: '/boom', status: 500, level: 50 });
  });
});
