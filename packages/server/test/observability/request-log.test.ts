import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { basic, REDIRECT_URI, WEB_SECRET } from '@gatehouse/testkit/clients';
import { postForm } from '@gatehouse/testkit/forms';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { authorizationCode } from '@gatehouse/testkit/sign-in';
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

describe('the request line of POST /token', () => {
  const lines: string[] = [];
  let redis: RedisProcess;
  let gh: StartedGatehouse;

  beforeAll(async () => {
    redis = await startRedis();
    const log = createLogger(
      { env: 'test' },
      { write: (line: string) => void lines.push(line) },
      { level: 'info' },
    );
    gh = await startGatehouse({ redis, gatehouse: { outerMiddleware: [requestLogger(log)] } });
  });
  afterAll(async () => {
    await gh?.stop();
    await redis?.cleanup();
  });

  /** The request line of the `/token` request answered last. */
  const lastTokenLine = () => {
    const line = lines.findLast((l) => (JSON.parse(l) as { route?: unknown }).route === 'token');
    expect(line).toBeDefined();
    return line ?? '';
  };

  it('names the grant of a code exchange and of a refresh, and holds no credential', async () => {
    const { code, verifier } = await authorizationCode(gh.server, gh.issuer);
    const issued = await postForm(`${gh.issuer}/token`, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT_URI,
      client_id: 'spa',
    });
    expect(issued.status).toBe(200);
    const exchange = lastTokenLine();
    expect(JSON.parse(exchange)).toMatchObject({
      method: 'POST',
      status: 200,
      clientId: 'spa',
      grant_type: 'authorization_code',
    });

    const refreshToken = String(issued.body.refresh_token);
    const refreshed = await postForm(`${gh.issuer}/token`, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: 'spa',
    });
    expect(refreshed.status).toBe(200);
    const refresh = lastTokenLine();
    expect(JSON.parse(refresh)).toMatchObject({ status: 200, grant_type: 'refresh_token' });

    for (const line of [exchange, refresh]) {
      for (const credential of [
        code,
        verifier,
        refreshToken,
        String(issued.body.access_token),
        String(issued.body.id_token),
        String(refreshed.body.refresh_token),
        String(refreshed.body.access_token),
      ]) {
        expect(line).not.toContain(credential);
      }
    }
  });

  it('repeats only a grant type it knows: anything else, or a secret, is left out', async () => {
    const pasted = 'eyJhbGciOiJub25lIn0.pasted-credential-0123456789';
    const odd = await postForm(`${gh.issuer}/token`, { grant_type: pasted, client_id: 'spa' });
    expect(odd.status).toBe(400);
    const line = lastTokenLine();
    expect(JSON.parse(line)).not.toHaveProperty('grant_type');
    expect(line).not.toContain(pasted);

    const failed = await postForm(
      `${gh.issuer}/token`,
      { grant_type: 'client_credentials' },
      basic('web', `${WEB_SECRET}-wrong`),
    );
    expect(failed.body.error).toBeDefined();
    const failedLine = lastTokenLine();
    expect(JSON.parse(failedLine)).toMatchObject({ status: failed.status, grant_type: 'client_credentials' });
    expect(failedLine).not.toContain(WEB_SECRET);
  });
});
