import { REDIRECT_URI } from '@gatehouse/testkit/clients';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { authorizationUrl, oauthClient, pkce } from '@gatehouse/testkit/sign-in';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTHORIZATION_REQUESTS_PER_IP } from '../../src/security/authorization-request-limit.ts';
import { PUSHED_AUTHORIZATIONS_PER_IP } from '../../src/security/public-client-limits.ts';

// The attack: an authorization request of a public client (its id and redirect URI are public)
// stores an interaction for an hour before anyone signs in, and a pushed authorization request a
// request object for a minute; one address could send as many as it liked and fill Redis.
describe('authorization requests from one address (real server, real Redis)', () => {
  // One proxy in front, so each test can come from an address of its own (X-Forwarded-For).
  const gh = suiteGatehouse({ env: { TRUST_PROXY: '1' } });
  let conn: Redis;
  beforeAll(() => {
    conn = new Redis(gh.redis.url);
  });
  afterAll(() => conn?.disconnect());

  const stored = async (model: string) => (await conn.keys(`gatehouse:${model}:*`)).length;

  /** A fresh authorization request of the public `spa` client (PKCE), as its parameters. */
  let spa: ReturnType<typeof oauthClient> | undefined;
  async function authorizationParams(extra: Record<string, string> = {}) {
    spa ??= oauthClient(gh.issuer, 'spa');
    const url = authorizationUrl(await spa, await pkce(), 'openid');
    for (const [name, value] of Object.entries(extra)) url.searchParams.set(name, value);
    return url.searchParams;
  }

  const authorize = async (ip: string, extra: Record<string, string> = {}) =>
    fetch(`${gh.issuer}/authorize?${await authorizationParams(extra)}`, {
      redirect: 'manual',
      headers: { 'x-forwarded-for': ip },
    });

  const LIMIT = AUTHORIZATION_REQUESTS_PER_IP.limit;

  it(`stores at most ${LIMIT} interactions for a parallel burst of ${LIMIT + 150} from one IPv6 /64, then shows the 429 page`, async () => {
    const before = await stored('Interaction');
    const responses = await Promise.all(
      Array.from({ length: LIMIT + 150 }, (_, i) => authorize(`2001:db8:a:1::${(i + 1).toString(16)}`)),
    );
    const statuses = responses.map((r) => r.status);
    const started = responses.filter(
      (r) => r.status === 303 && /\/interaction\//.test(r.headers.get('location') ?? ''),
    );
    expect(started.length).toBe(LIMIT);
    expect(statuses.filter((s) => s !== 303 && s !== 429)).toEqual([]);
    expect((await stored('Interaction')) - before).toBe(LIMIT);

    const refused = responses.find((r) => r.status === 429);
    expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused?.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await refused?.text()).toMatch(/Too many sign-ins were started from your network/);

    // Another network starts its sign-in.
    const neighbour = await authorize('2001:db8:a:2::1');
    expect(neighbour.status).toBe(303);
    expect(neighbour.headers.get('location')).toMatch(/\/interaction\//);
  });

  it('answers silent checks (prompt=none) past the limit: they store nothing', async () => {
    const ip = '203.0.113.120';
    await Promise.all(Array.from({ length: LIMIT }, () => authorize(ip)));
    expect((await authorize(ip)).status).toBe(429);

    const before = await stored('Interaction');
    const silent = await Promise.all(Array.from({ length: 20 }, () => authorize(ip, { prompt: 'none' })));
    for (const answer of silent) {
      expect(answer.status).toBe(303);
      const location = new URL(String(answer.headers.get('location')));
      expect(location.origin + location.pathname).toBe(REDIRECT_URI);
      expect(location.searchParams.get('error')).toBe('login_required');
    }
    expect(await stored('Interaction')).toBe(before);
  });

  it(`stores at most ${PUSHED_AUTHORIZATIONS_PER_IP.limit} pushed requests of a public client for a parallel burst from one address`, async () => {
    const limit = PUSHED_AUTHORIZATIONS_PER_IP.limit;
    const before = await stored('PushedAuthorizationRequest');
    const push = async () =>
      fetch(`${gh.issuer}/par`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.121' },
        body: await authorizationParams(),
      });
    const responses = await Promise.all(Array.from({ length: limit + 100 }, push));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201).length).toBe(limit);
    expect(statuses.filter((s) => s !== 201 && s !== 429)).toEqual([]);
    const refused = responses.find((r) => r.status === 429);
    expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await refused?.json()).toMatchObject({ error: 'temporarily_unavailable' });
    expect((await stored('PushedAuthorizationRequest')) - before).toBe(limit);
  });
});
