import { once } from 'node:events';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { parse } from 'node:querystring';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import Koa from 'koa';
import compose from 'koa-compose';
import { errors, type KoaContextWithOIDC, Provider } from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readBody } from '../http/request-body.ts';
import { PARSED_BODY_NOTICE, QUIRKS, QUIRKS_VERIFIED_WITH } from './oidc-provider-quirks.ts';

// One test per quirk in oidc-provider-quirks.ts, against the library alone (no Gatehouse
// policy in front), so that each fails, naming its quirk, when an oidc-provider release stops
// behaving the way the workaround assumes. Then change the quirk's function, or delete it.

const installed = (createRequire(import.meta.url)('oidc-provider/package.json') as { version: string })
  .version;
const SECRET = 'quirk-test-secret-with-at-least-32-characters';
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
// Any string whose first segment decodes as a JWS header is a "structured token" to the library.
const JWT_LIKE = `${Buffer.from('{"alg":"ES256","typ":"at+jwt"}').toString('base64url')}.e30.c2ln`;

let base: string;
let server: Server;
/** The error oidc-provider reported (its `*.error` events) for the last request, with the client it had authenticated. */
let reported: { err: unknown; clientId: string | undefined } | undefined;
let warn: { mock: { calls: unknown[][] } };

beforeAll(async () => {
  // Silence (and record) the library's console notices for this file only.
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  vi.spyOn(console, 'info').mockImplementation(() => {});
  const provider = new Provider('http://localhost', {
    clients: [
      {
        client_id: 'code-only',
        client_secret: SECRET,
        grant_types: ['authorization_code'],
        redirect_uris: ['http://localhost:5173/callback'],
      },
    ],
    routes: { introspection: '/introspect', revocation: '/revoke' },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
    },
  });
  const record = (ctx: KoaContextWithOIDC, err: unknown) => {
    reported = { err, clientId: ctx.oidc?.client?.clientId };
  };
  provider.on('grant.error', record);
  provider.on('introspection.error', record);
  provider.on('revocation.error', record);
  // In front of the provider, as in Gatehouse: the body is read first and handed over parsed.
  const app = new Koa();
  app.use(async (ctx, next) => {
    reported = undefined;
    if (ctx.method === 'POST' && ctx.is('application/x-www-form-urlencoded')) {
      const read = await readBody(ctx.req);
      if (read.kind === 'ok')
        (ctx.request as Koa.Request & { body?: unknown }).body = parse(read.body.toString());
    }
    await next();
  });
  app.use(compose(provider.middleware as Koa.Middleware[]));
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.close();
  vi.restoreAllMocks();
});

async function post(path: string, form: Record<string, string>, secret = SECRET) {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      authorization: basic('code-only', secret),
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams(form),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

describe(`oidc-provider ${installed} (quirks verified with ${QUIRKS_VERIFIED_WITH})`, () => {
  it(`quirk ${QUIRKS.parsedBodyNotice}: reads a parsed ctx.request.body once the stream is consumed, and says so once on console.warn`, async () => {
    // The handed-over form is what it reads: an unknown grant type is named as such (a form it
    // did not read would lack grant_type: invalid_request).
    const answered = await post('/token', { grant_type: 'urn:example:unknown' });
    expect(answered.body.error, `quirk ${QUIRKS.parsedBodyNotice}: the parsed body was not read`).toBe(
      'unsupported_grant_type',
    );
    expect(reported?.err).toBeInstanceOf(errors.UnsupportedGrantType);
    await post('/token', { grant_type: 'urn:example:unknown' });
    const notices = warn.mock.calls.filter(([line]: unknown[]) => String(line).includes(PARSED_BODY_NOTICE));
    expect(
      notices,
      `quirk ${QUIRKS.parsedBodyNotice}: the notice changed; update PARSED_BODY_NOTICE`,
    ).toHaveLength(1);
  });

  it(`quirk ${QUIRKS.grantNotAllowedIsInvalidRequest}: a grant type the client is not registered for is invalid_request (an InvalidRequest), after client authentication`, async () => {
    const refused = await post('/token', { grant_type: 'client_credentials' });
    expect(refused.status, `quirk ${QUIRKS.grantNotAllowedIsInvalidRequest}`).toBe(400);
    expect(refused.body.error, `quirk ${QUIRKS.grantNotAllowedIsInvalidRequest}: remove the correction`).toBe(
      'invalid_request',
    );
    expect(reported?.err).toBeInstanceOf(errors.InvalidRequest);
    expect(reported?.clientId).toBe('code-only');
    // Client authentication comes first: without the secret, nothing about the registration.
    const unauthenticated = await post('/token', { grant_type: 'client_credentials' }, `${SECRET}-wrong`);
    expect(unauthenticated.body.error).toBe('invalid_client');
  });

  it.each(['/introspect', '/revoke'])(
    `quirk ${QUIRKS.structuredTokensRefused}: %s refuses a JWT as unsupported_token_type (an UnsupportedTokenType) once the client is authenticated`,
    async (path) => {
      const refused = await post(path, { token: JWT_LIKE });
      expect(refused.status, `quirk ${QUIRKS.structuredTokensRefused}`).toBe(400);
      expect(
        refused.body.error,
        `quirk ${QUIRKS.structuredTokensRefused}: answer JWTs through the library`,
      ).toBe('unsupported_token_type');
      expect(reported?.err).toBeInstanceOf(errors.UnsupportedTokenType);
      expect(reported?.clientId).toBe('code-only');
      const unauthenticated = await post(path, { token: JWT_LIKE }, `${SECRET}-wrong`);
      expect(unauthenticated.body.error).toBe('invalid_client');
    },
  );

  it(`quirk ${QUIRKS.deviceErrorPageUnsavedSession}: the device code page after an error, without a saved session, is a 500`, async () => {
    const device = new Provider('http://localhost', {
      routes: { code_verification: '/device' },
      features: { devInteractions: { enabled: false }, deviceFlow: { enabled: true } },
    });
    const listening = device.listen(0, '127.0.0.1');
    await once(listening, 'listening');
    const at = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
    try {
      const stale = await fetch(`${at}/device`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'user_code=x&xsrf=x',
      });
      const unknown = await fetch(`${at}/device/x`);
      const fixed = `quirk ${QUIRKS.deviceErrorPageUnsavedSession}: fixed upstream, remove persistingSession`;
      expect(stale.status, fixed).toBe(500);
      expect(unknown.status, fixed).toBe(500);
    } finally {
      listening.close();
    }
  });

  it(`quirk ${QUIRKS.replayDetectionCheckThenAct}: ReplayDetection.unique finds then saves (two parallel calls both pass), and DPoP proofs are checked through it`, async () => {
    const provider = new Provider('http://localhost', {
      clients: [
        {
          client_id: 'service',
          client_secret: SECRET,
          grant_types: ['client_credentials'],
          redirect_uris: [],
          response_types: [],
        },
      ],
      features: { devInteractions: { enabled: false }, clientCredentials: { enabled: true } },
    });
    const exp = Math.floor(Date.now() / 1000) + 300;
    const both = await Promise.all([
      provider.ReplayDetection.unique('service', 'one-jti', exp),
      provider.ReplayDetection.unique('service', 'one-jti', exp),
    ]);
    expect(
      both,
      `quirk ${QUIRKS.replayDetectionCheckThenAct}: unique is atomic now; detectReplayAtomically may go`,
    ).toEqual([true, true]);

    // The token endpoint asks provider.ReplayDetection.unique, so replacing it on the instance is enough.
    const asked: unknown[][] = [];
    const Replay = provider.ReplayDetection as { unique(...args: unknown[]): Promise<boolean> };
    Replay.unique = async (...args: unknown[]) => {
      asked.push(args);
      return false;
    };
    const listening = provider.listen(0, '127.0.0.1');
    await once(listening, 'listening');
    const at = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
    try {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const jwk = await exportJWK(publicKey);
      const proof = await new SignJWT({ htm: 'POST', htu: `${at}/token`, jti: 'proof-jti' })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
        .setIssuedAt()
        .sign(privateKey);
      const response = await fetch(`${at}/token`, {
        method: 'POST',
        headers: {
          authorization: basic('service', SECRET),
          'content-type': 'application/x-www-form-urlencoded',
          dpop: proof,
        },
        body: 'grant_type=client_credentials',
      });
      const checked = `quirk ${QUIRKS.replayDetectionCheckThenAct}: DPoP replay is no longer checked through ReplayDetection.unique`;
      expect(response.status, checked).toBe(400);
      expect(((await response.json()) as { error?: string }).error, checked).toBe('invalid_grant');
      expect(asked, checked).toEqual([['service', 'proof-jti', expect.any(Number)]]);
    } finally {
      listening.close();
    }
  });
});
