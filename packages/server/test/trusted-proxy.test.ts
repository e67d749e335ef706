import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { REDIRECT_URI } from '@gatehouse/testkit/clients';
import { CookieJar, getWithCookies } from '@gatehouse/testkit/forms';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { pkce } from '@gatehouse/testkit/sign-in';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_AUTH_FAILURES_PER_IP } from '../src/security/client-auth-throttle.ts';
import { LOGIN_FAILURES_PER_IP } from '../src/security/login-throttle.ts';

// The attack: behind a proxy that appends the address it saw to X-Forwarded-For, a client sends its
// own X-Forwarded-For with a new made-up address on every request. The leftmost entry is the client's
// choice; only the entries the trusted proxies appended are facts. Every per-address limit must count
// the address the proxy saw, however many spoofed entries arrive.

/** The address the (pretend) TLS-terminating proxy saw and appended. */
const CLIENT = '203.0.113.7';
/** Another real client behind the same proxy. */
const NEIGHBOUR = '203.0.113.99';
const BURST = 30;

const spoofed = (i: number) => `198.51.100.${i}`;

interface Event {
  readonly type: string;
  readonly ip?: string;
}

async function start(redis: RedisProcess, trustProxy: string, events: Event[]): Promise<StartedGatehouse> {
  return startGatehouse({
    redis,
    env: { TRUST_PROXY: trustProxy },
    gatehouse: { onSecurityEvent: (event) => events.push(event) },
  });
}

/** Opens the sign-in page of a fresh authorization request; returns where to post and the CSRF token. */
async function openLogin(gh: StartedGatehouse) {
  const jar = new CookieJar();
  const url = new URL(`${gh.issuer}/authorize`);
  url.search = new URLSearchParams({
    client_id: 'spa',
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    state: 'state-123',
    code_challenge: (await pkce()).challenge,
    code_challenge_method: 'S256',
  }).toString();
  const response = await getWithCookies(String(url), jar);
  const page = await getWithCookies(new URL(String(response.headers.get('location')), gh.issuer).href, jar);
  const csrf = (await page.text()).match(/name="csrf" value="([^"]+)"/)?.[1];
  return { action: `${page.url}/login`, jar, csrf: String(csrf) };
}

/** A wrong password for an unknown account (each its own, so no per-account lockout interferes). */
async function failedSignIn(gh: StartedGatehouse, forwardedFor: string, account: string): Promise<Response> {
  const { action, jar, csrf } = await openLogin(gh);
  return fetch(action, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: jar.header(),
      'x-forwarded-for': forwardedFor,
    },
    body: new URLSearchParams({ csrf, email: `${account}@example.test`, password: 'wrong-password-0000' }),
  });
}

/** client_credentials with a made-up client id: `401 invalid_client`, one client authentication failure. */
function failedClientAuth(gh: StartedGatehouse, forwardedFor: string): Promise<Response> {
  const credentials = Buffer.from(`ghost-${crypto.randomUUID()}:wrong-secret`).toString('base64');
  return fetch(`${gh.issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${credentials}`,
      'x-forwarded-for': forwardedFor,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
}

let redis: RedisProcess;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.cleanup());

describe('TRUST_PROXY=1: one proxy in front that appends to X-Forwarded-For', () => {
  const events: Event[] = [];
  let gh: StartedGatehouse;
  beforeAll(async () => {
    gh = await start(redis, '1', events);
  });
  afterAll(() => gh?.stop());

  it(`${BURST} failed sign-ins with spoofed leftmost entries count for the one address the proxy saw`, async () => {
    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        failedSignIn(gh, `${spoofed(i)}, ${CLIENT}`, `proxy-signin-${i}`),
      ),
    );
    for (const answer of answers) expect([401, 429]).toContain(answer.status);
    // The security log names the address the proxy saw, never one the client wrote.
    const named = events.filter((e) => e.type === 'login_failed' || e.type === 'lockout').map((e) => e.ip);
    expect(named.length).toBeGreaterThan(0);
    expect(new Set(named)).toEqual(new Set([CLIENT]));

    // One more made-up address does not help: the client's address is locked out.
    const next = await failedSignIn(gh, `${spoofed(200)}, ${CLIENT}`, 'proxy-signin-next');
    expect(next.status).toBe(429);
    expect(Number(next.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await next.text()).toMatch(/too many/i);
    // …while another client behind the same proxy is not.
    expect((await failedSignIn(gh, NEIGHBOUR, 'proxy-signin-neighbour')).status).toBe(401);
  });

  it(`${BURST} failed client authentications with spoofed leftmost entries count for one address`, async () => {
    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) => failedClientAuth(gh, `${spoofed(i)}, 192.0.2.1`)),
    );
    for (const answer of answers) expect([401, 429]).toContain(answer.status);
    const next = await failedClientAuth(gh, `${spoofed(201)}, 192.0.2.1`);
    expect(next.status).toBe(429);
    expect(((await next.json()) as { error: string }).error).toBe('invalid_client');
    expect((await failedClientAuth(gh, '192.0.2.2')).status).toBe(401);
  });

  // An IPv6 client may send from any address of the /64 it was given: one counter per address would be a
  // fresh counter per request. The security log still names each full address.
  const inPrefix = (prefix: string, i: number) =>
    `${prefix}:${(i + 1).toString(16)}:0:0:${(0xbeef + i).toString(16)}`;

  it(`${BURST} failed sign-ins, each from another address of one IPv6 /64, count for that /64`, async () => {
    const prefix = '2001:db8:7:1';
    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        failedSignIn(gh, `${spoofed(i)}, ${inPrefix(prefix, i)}`, `v6-signin-${i}`),
      ),
    );
    for (const answer of answers) expect([401, 429]).toContain(answer.status);
    const evaluated = events.filter((e) => e.type === 'login_failed' && e.ip?.startsWith(`${prefix}:`));
    expect(evaluated.length).toBeLessThanOrEqual(LOGIN_FAILURES_PER_IP.limit);
    expect(answers.filter((a) => a.status === 429).length).toBeGreaterThanOrEqual(
      BURST - LOGIN_FAILURES_PER_IP.limit,
    );

    expect((await failedSignIn(gh, `${prefix}:ffff:ffff:ffff:fffe`, 'v6-signin-next')).status).toBe(429);
    // The next /64 is another client.
    expect((await failedSignIn(gh, '2001:db8:7:2::1', 'v6-signin-neighbour')).status).toBe(401);
  });

  it(`${BURST} failed client authentications, each from another address of one IPv6 /64, count for that /64`, async () => {
    const prefix = '2001:db8:8:1';
    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) => failedClientAuth(gh, `${spoofed(i)}, ${inPrefix(prefix, i)}`)),
    );
    expect(answers.filter((a) => a.status === 401).length).toBeLessThanOrEqual(
      CLIENT_AUTH_FAILURES_PER_IP.limit,
    );
    const next = await failedClientAuth(gh, `[${prefix}::abcd]:4433`);
    expect(next.status).toBe(429);
    expect(((await next.json()) as { error: string }).error).toBe('invalid_client');
    expect((await failedClientAuth(gh, '2001:db8:8:2::1')).status).toBe(401);
  });

  it('an IPv4 client written IPv4-mapped by one proxy and plain by another is one address', async () => {
    const spellings = ['192.0.2.77', '::ffff:192.0.2.77', '192.0.2.77:40001', '::ffff:c000:24d'];
    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) => failedClientAuth(gh, spellings[i % spellings.length] ?? '')),
    );
    expect(answers.filter((a) => a.status === 401).length).toBeLessThanOrEqual(
      CLIENT_AUTH_FAILURES_PER_IP.limit,
    );
    expect((await failedClientAuth(gh, '::ffff:192.0.2.77')).status).toBe(429);
  });

  it('takes the scheme from the proxy too: an X-Forwarded-Proto the client prepends does not make http look like https', async () => {
    const spoofedHttps = await fetch(`${gh.issuer}/register`, {
      headers: { 'x-forwarded-proto': 'https, http' },
    });
    expect(spoofedHttps.headers.get('strict-transport-security')).toBeNull();
    expect(spoofedHttps.headers.get('set-cookie')).toMatch(/^gatehouse\.csrf=/);

    const https = await fetch(`${gh.issuer}/register`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(https.headers.get('strict-transport-security')).toBe('max-age=31536000');
    expect(https.headers.get('set-cookie')).toMatch(/^__Host-gatehouse\.csrf=.*; secure/);
  });
});

describe('TRUST_PROXY=2: two proxies in front', () => {
  const events: Event[] = [];
  let gh: StartedGatehouse;
  beforeAll(async () => {
    gh = await start(redis, '2', events);
  });
  afterAll(() => gh?.stop());

  it('names the address the outer proxy saw: second from the right', async () => {
    // The client wrote the first entry, the outer proxy appended the client's address, the inner
    // proxy the outer proxy's.
    const answers = await Promise.all([
      failedSignIn(gh, `${spoofed(1)}, 192.0.2.55, 10.0.0.2`, 'two-hops-1'),
      failedSignIn(gh, `${spoofed(2)}, ${spoofed(3)}, 192.0.2.55, 10.0.0.2`, 'two-hops-2'),
    ]);
    expect(answers.map((a) => a.status)).toEqual([401, 401]);
    expect(events.filter((e) => e.type === 'login_failed').map((e) => e.ip)).toEqual([
      '192.0.2.55',
      '192.0.2.55',
    ]);
  });
});

describe('TRUST_PROXY=0: no proxy, X-Forwarded-* are the client’s own words', () => {
  const events: Event[] = [];
  let gh: StartedGatehouse;
  beforeAll(async () => {
    gh = await start(redis, '0', events);
  });
  afterAll(() => gh?.stop());

  it(`ignores X-Forwarded-For: ${BURST} failures from made-up addresses count for the socket's`, async () => {
    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) => failedClientAuth(gh, spoofed(i))),
    );
    for (const answer of answers) expect([401, 429]).toContain(answer.status);
    expect((await failedClientAuth(gh, spoofed(202))).status).toBe(429);

    expect((await failedSignIn(gh, `${spoofed(203)}, ${CLIENT}`, 'no-proxy')).status).toBe(401);
    const named = events.filter((e) => e.type === 'login_failed').map((e) => e.ip);
    expect(named).toHaveLength(1);
    expect(named[0]).toMatch(/^(::ffff:)?127\.0\.0\.1$|^::1$/);
  });

  it('ignores X-Forwarded-Proto', async () => {
    const response = await fetch(`${gh.issuer}/register`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(response.headers.get('strict-transport-security')).toBeNull();
  });
});
