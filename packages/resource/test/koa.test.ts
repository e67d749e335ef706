import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerChallenge, createAccessTokenVerifier } from '../src/index.ts';
import { optionalAccessToken, requireAccessToken } from '../src/koa.ts';
import { AUDIENCE, NOW, startTestIssuer, type TestIssuer } from './issuer-fixture.ts';

let issuer: TestIssuer;
let server: Server;
let base: string;
let downServer: Server;
let downBase: string;

async function listen(app: Koa): Promise<[Server, string]> {
  const listening = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => listening.once('listening', resolve));
  return [listening, `http://127.0.0.1:${(listening.address() as AddressInfo).port}`];
}

function apiFor(verifier: ReturnType<typeof createAccessTokenVerifier>): Koa {
  const app = new Koa();
  // A minimal form body parser, as an app would mount one, so RFC 6750 §2.2 body tokens are seen.
  app.use(async (ctx, next) => {
    if (ctx.is('application/x-www-form-urlencoded')) {
      let raw = '';
      for await (const chunk of ctx.req) raw += chunk;
      (ctx.request as { body?: unknown }).body = Object.fromEntries(new URLSearchParams(raw));
    }
    await next();
  });
  const write = requireAccessToken({ verifier, scopes: ['recipes:write'] });
  const read = requireAccessToken({ verifier });
  const optional = optionalAccessToken({ verifier });
  app.use(async (ctx, next) => {
    if (ctx.path === '/write')
      return write(ctx, async () => {
        ctx.body = { sub: ctx.state.auth.sub };
      });
    if (ctx.path === '/optional')
      return optional(ctx, async () => {
        ctx.body = { sub: ctx.state.auth?.sub ?? null };
      });
    return read(ctx, async () => {
      ctx.body = {
        sub: ctx.state.auth.sub,
        clientId: ctx.state.auth.clientId,
        scopes: ctx.state.auth.scopes,
      };
    });
    // biome-ignore lint/correctness/noUnreachable: keeps `next` used for the Middleware signature.
    await next();
  });
  return app;
}

beforeAll(async () => {
  issuer = await startTestIssuer();
  const verifier = createAccessTokenVerifier({ issuer: issuer.issuer, audience: AUDIENCE, now: () => NOW });
  [server, base] = await listen(apiFor(verifier));
  // A second API whose issuer's JWKS is down from the start (cold cache).
  const downIssuer = await startTestIssuer();
  downIssuer.jwksDown = true;
  const downVerifier = createAccessTokenVerifier({
    issuer: downIssuer.issuer,
    audience: AUDIENCE,
    now: () => NOW,
  });
  [downServer, downBase] = await listen(apiFor(downVerifier));
  afterAll(() => downIssuer.close());
});
afterAll(async () => {
  server.close();
  downServer.close();
  await issuer.close();
});

async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    body: text ? JSON.parse(text) : undefined,
  };
}

const realm = `realm="${AUDIENCE}"`;
// The verifier's default `dpop: 'allowed'` offers the DPoP scheme next to Bearer in every challenge.
const dpopOffer = `DPoP ${realm}, algs="ES256 EdDSA"`;

describe('requireAccessToken (RFC 6750 over HTTP)', () => {
  it('answers 200 with ctx.state.auth for a valid token, whatever the case of the scheme', async () => {
    const token = await issuer.mint();
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const { status, body } = await call('/read', { headers: { authorization: `${scheme} ${token}` } });
      expect(status).toBe(200);
      expect(body).toEqual({ sub: 'user-1', clientId: 'spa', scopes: ['openid', 'recipes:read'] });
    }
  });

  it('answers 401 with a bare challenge (no error attribute) when there are no credentials', async () => {
    for (const headers of [{}, { authorization: 'Basic dXNlcjpwYXNz' }]) {
      const { status, challenge, body } = await call('/read', { headers });
      expect(status).toBe(401);
      expect(challenge).toBe(`Bearer ${realm}, ${dpopOffer}`);
      expect(body.error).toBe('missing_token');
    }
  });

  it.each([
    ['Bearer', 'malformed Bearer credentials'],
    ['Bearer ', 'malformed Bearer credentials'],
    ['Bearer a b', 'malformed Bearer credentials'],
    ['Bearer ab"c', 'malformed Bearer credentials'],
    ['@Bearer abc', 'malformed Authorization header'],
  ])('answers 400 invalid_request to the malformed header %j', async (authorization, description) => {
    const { status, challenge, body } = await call('/read', { headers: { authorization } });
    expect(status).toBe(400);
    expect(challenge).toBe(
      `Bearer ${realm}, error="invalid_request", error_description="${description}", ${dpopOffer}`,
    );
    expect(body).toEqual({ error: 'invalid_request', error_description: description });
  });

  it('answers 400 invalid_request to a token in the query string', async () => {
    const token = await issuer.mint();
    const { status, body } = await call(`/read?access_token=${token}`);
    expect(status).toBe(400);
    expect(body.error_description).toBe('access token in the query string is not supported');
  });

  it('accepts a form-encoded body token and refuses a token sent twice', async () => {
    const token = await issuer.mint();
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const once = await call('/read', { method: 'POST', headers: form, body: `access_token=${token}` });
    expect(once.status).toBe(200);
    const twice = await call('/read', {
      method: 'POST',
      headers: { ...form, authorization: `Bearer ${token}` },
      body: `access_token=${token}`,
    });
    expect(twice.status).toBe(400);
    expect(twice.body.error_description).toBe('access token sent more than once');
  });

  it('answers 401 invalid_token with a description to a bad token', async () => {
    const token = await issuer.mint({ claims: { aud: 'https://other.example.test' } });
    const { status, challenge, body } = await call('/read', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(status).toBe(401);
    expect(challenge).toBe(
      `Bearer ${realm}, error="invalid_token", error_description="invalid aud claim", ${dpopOffer}`,
    );
    expect(body).toEqual({ error: 'invalid_token', error_description: 'invalid aud claim' });
  });

  it('answers 401 to an oversized token and never 200/500 to a 1 MB one', async () => {
    const large = await issuer.mint({ claims: { padding: 'x'.repeat(9000) } });
    const { status, body } = await call('/read', { headers: { authorization: `Bearer ${large}` } });
    expect(status).toBe(401);
    expect(body.error_description).toBe('token too large');
    // Node refuses headers over 16 KiB itself: 431 Request Header Fields Too Large.
    const huge = await call('/read', {
      headers: { authorization: `Bearer ${'a'.repeat(1024 * 1024)}` },
    }).catch(() => ({ status: 431 }));
    expect(huge.status).toBe(431);
  });

  it('answers 403 insufficient_scope naming the required scope', async () => {
    const token = await issuer.mint();
    const { status, challenge, body } = await call('/write', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(status).toBe(403);
    expect(challenge).toBe(
      `Bearer ${realm}, error="insufficient_scope", error_description="requires scope: recipes:write", scope="recipes:write", ${dpopOffer}`,
    );
    expect(body.error).toBe('insufficient_scope');
    const allowed = await issuer.mint({ claims: { scope: 'recipes:read recipes:write' } });
    expect((await call('/write', { headers: { authorization: `Bearer ${allowed}` } })).status).toBe(200);
  });

  it('answers 503 with Retry-After when the JWKS is unreachable with a cold cache', async () => {
    const token = await issuer.mint();
    const response = await fetch(`${downBase}/read`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect((await response.json()).error).toBe('temporarily_unavailable');
  });
});

describe('optionalAccessToken', () => {
  it('lets anonymous requests through, sets auth for valid tokens, refuses bad ones', async () => {
    expect(await call('/optional')).toMatchObject({ status: 200, body: { sub: null } });
    const token = await issuer.mint();
    expect(await call('/optional', { headers: { authorization: `Bearer ${token}` } })).toMatchObject({
      status: 200,
      body: { sub: 'user-1' },
    });
    expect(await call('/optional', { headers: { authorization: 'Bearer garbage' } })).toMatchObject({
      status: 401,
      body: { error: 'invalid_token' },
    });
  });
});

describe('bearerChallenge', () => {
  it('keeps header values quoted-string safe', () => {
    expect(
      bearerChallenge({
        realm: 'a "quoted" \\ realm',
        error: 'invalid_token',
        error_description: 'bad "x"\n',
      }),
    ).toBe(`Bearer realm="a \\"quoted\\" \\\\ realm", error="invalid_token", error_description="bad 'x' "`);
  });
});
