import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { basic, REDIRECT_URI, SERVICE_SECRET, WEB_SECRET } from '@gatehouse/testkit/clients';
import { postForm } from '@gatehouse/testkit/forms';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { authorizationCode, signIn } from '@gatehouse/testkit/sign-in';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createObservability, type Observability } from '../../src/observability/index.ts';
import { createLogger } from '../../src/observability/logger.ts';

/** Every credential value the test saw on the wire; none may appear in any log line. */
const secrets = new Set<string>();
const keep = (value: unknown) => {
  if (typeof value !== 'string' || value.length < 8) return;
  secrets.add(value);
  // A JWT's signature alone identifies it: catch a token logged in pieces too.
  const signature = value.split('.')[2];
  if (signature && signature.length >= 16) secrets.add(signature);
};
const keepTokens = (body: Record<string, unknown>) => {
  for (const field of ['access_token', 'refresh_token', 'id_token']) keep(body[field]);
};

describe('logs never carry a credential', () => {
  let redis: RedisProcess;
  let gh: StartedGatehouse;
  let obs: Observability;
  const lines: string[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const log = createLogger(
      { env: 'test' },
      { write: (line: string) => void lines.push(line) },
      { level: 'trace' },
    );
    obs = createObservability({ metricsPort: undefined }, log);
    gh = await startGatehouse({
      redis,
      gatehouse: {
        outerMiddleware: obs.outerMiddleware,
        onProviderCreated: obs.onProviderCreated,
        onError: (err) => log.error({ err }, 'unexpected error'),
      },
    });
    obs.watchStore(gh.server.store);
    for (const value of [SERVICE_SECRET, WEB_SECRET, `${WEB_SECRET}-other`]) keep(value);

    // Code flow: the code, its verifier and the tokens.
    const { code, verifier } = await authorizationCode(gh.server, gh.issuer);
    keep(code);
    keep(verifier);
    const issued = await postForm(`${gh.issuer}/token`, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT_URI,
      client_id: 'spa',
    });
    expect(issued.status).toBe(200);
    keepTokens(issued.body);
    // The same code again: invalid_grant and a code_replay_detected event.
    await postForm(`${gh.issuer}/token`, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT_URI,
      client_id: 'spa',
    });

    // openid-client's code flow, then refresh, then a replay of the spent refresh token.
    const signedIn = await signIn(gh.server, gh.issuer);
    keepTokens(signedIn.tokens as unknown as Record<string, unknown>);
    const refreshed = await postForm(`${gh.issuer}/token`, {
      grant_type: 'refresh_token',
      refresh_token: signedIn.refreshToken,
      client_id: 'spa',
    });
    expect(refreshed.status).toBe(200);
    keepTokens(refreshed.body);
    const replay = await postForm(`${gh.issuer}/token`, {
      grant_type: 'refresh_token',
      refresh_token: signedIn.refreshToken,
      client_id: 'spa',
    });
    expect(replay.body.error).toBe('invalid_grant');

    // Client credentials with a secret, introspection and revocation.
    const service = await postForm(
      `${gh.issuer}/token`,
      { grant_type: 'client_credentials', scope: 'recipes:read' },
      basic('service', SERVICE_SECRET),
    );
    expect(service.status).toBe(200);
    keepTokens(service.body);
    const introspected = await postForm(
      `${gh.issuer}/introspect`,
      { token: String(refreshed.body.refresh_token) },
      basic('web', WEB_SECRET),
    );
    expect(introspected.status).toBe(200);
    const revoked = await postForm(`${gh.issuer}/revoke`, {
      token: String(refreshed.body.refresh_token),
      client_id: 'spa',
    });
    expect(revoked.status).toBe(200);

    // Failed client authentication: a wrong secret, in the header and in the body.
    const wrongSecret = 'wrong-secret-0123456789abcdefghijklmnop';
    keep(wrongSecret);
    const failed = await postForm(
      `${gh.issuer}/token`,
      { grant_type: 'client_credentials' },
      basic('service', wrongSecret),
    );
    expect(failed.body.error).toBe('invalid_client');
    await postForm(`${gh.issuer}/token`, {
      grant_type: 'client_credentials',
      client_id: 'service',
      client_secret: wrongSecret,
    });

    // Credentials in a query string, a cookie, a bearer header and a password field.
    const queryCode = 'query-code-0123456789abcdefghijk';
    const queryState = 'query-state-0123456789abcdefghij';
    const cookieValue = 'cookie-value-0123456789abcdefgh';
    const bearer = 'bearer-token-0123456789abcdefgh';
    const password = 'correct horse battery staple 42';
    for (const value of [queryCode, queryState, cookieValue, bearer, password]) keep(value);
    const query = `code=${queryCode}&state=${queryState}&access_token=${bearer}`;
    for (const path of [
      `/callback?${query}`,
      `/authorize?${query}`,
      `/interaction/abc123def456ghi789jkl?${query}`,
      `/healthz?${query}`,
    ]) {
      await fetch(`${gh.issuer}${path}`, {
        redirect: 'manual',
        headers: {
          cookie: `_session=${cookieValue}; _interaction=${cookieValue}`,
          authorization: `Bearer ${bearer}`,
        },
      });
    }
    const userinfo = await fetch(`${gh.issuer}/me`, { headers: { authorization: `Bearer ${bearer}` } });
    await userinfo.arrayBuffer();
    await postForm(`${gh.issuer}/token`, {
      grant_type: 'password',
      username: 'demo@example.com',
      password,
      client_id: 'spa',
    });
    await postForm(`${gh.issuer}/interaction/abc123def456ghi789jkl/login`, {
      email: 'demo@example.com',
      password,
    });

    // Cookies the server set during a real authorization request.
    const authorize = await fetch(
      `${gh.issuer}/authorize?client_id=spa&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256&state=s-0123456789abcdef`,
      { redirect: 'manual' },
    );
    for (const cookie of authorize.headers.getSetCookie()) keep(cookie.split(';')[0]?.split('=')[1]);
  });

  afterAll(async () => {
    await obs?.close();
    await gh?.stop();
    await redis?.cleanup();
  });

  it('saw credentials on the wire and log lines in the log', () => {
    expect(secrets.size).toBeGreaterThan(15);
    expect(lines.length).toBeGreaterThan(20);
  });

  it('no log line contains any token, code, secret, password or cookie value', () => {
    for (const line of lines) {
      for (const secret of secrets) {
        if (line.includes(secret))
          throw new Error(`log line leaks a credential (${secret.slice(0, 6)}…): ${line}`);
      }
    }
  });

  it('every line is JSON; request lines name id, method, route, status, latency and client', () => {
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const requests = entries.filter((e) => e.msg === 'request');
    expect(requests.length).toBeGreaterThan(15);
    for (const entry of requests) {
      expect(entry).toMatchObject({
        requestId: expect.stringMatching(/^[\w.:-]+$/),
        method: expect.any(String),
        route: expect.any(String),
        status: expect.any(Number),
        ms: expect.any(Number),
      });
      expect(String(entry.route)).not.toContain('?');
    }
    expect(requests).toContainEqual(
      expect.objectContaining({ method: 'POST', route: 'token', status: 200, clientId: 'service' }),
    );
    expect(requests).toContainEqual(expect.objectContaining({ route: 'authorization', method: 'GET' }));
    expect(requests).toContainEqual(expect.objectContaining({ route: 'introspection', clientId: 'web' }));
    expect(requests).toContainEqual(expect.objectContaining({ route: '/healthz', status: 200 }));
    expect(requests).toContainEqual(expect.objectContaining({ route: 'unmatched', status: 404 }));
  });

  it('security events are their own lines: replays, failed client auth, revoked grants', () => {
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const events = entries.filter((e) => e.security === true).map((e) => e.event);
    expect(events).toContain('refresh_replay_detected');
    expect(events).toContain('code_replay_detected');
    expect(events).toContain('client_auth_failed');
    expect(events).toContain('grant_revoked');
    expect(entries).toContainEqual(
      expect.objectContaining({ event: 'client_auth_failed', claimedClientId: 'service', route: 'token' }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({ event: 'refresh_replay_detected', clientId: 'spa', via: 'replay' }),
    );
    // A security event names its request, so the request line is one search away.
    const replay = entries.find((e) => e.event === 'refresh_replay_detected');
    expect(entries).toContainEqual(
      expect.objectContaining({ msg: 'request', requestId: replay?.requestId, route: 'token', status: 400 }),
    );
  });
});
