import { request } from 'node:http';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { authorizationUrl, oauthClient, pkce, signIn } from '@gatehouse/testkit/sign-in';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS_SESSION_TTL, INTERACTION_TTL } from '../../src/oidc-provider/configuration.ts';
import { ANONYMOUS_SESSION_LIMIT } from '../../src/security/anonymous-session-limit.ts';
import { SIGNING_KEYS_REDIS_KEY } from '../../src/store/keys.ts';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/**
 * GET from a chosen loopback address (all of 127/8 reaches the server), so a test can play many
 * visitors or one; no cookie unless given.
 */
function get(url: string, from: string, cookie?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress: from, headers: cookie ? { cookie } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The `name=value` pairs of a response's Set-Cookie headers, as a browser would send them back. */
function cookiesOf(answer: Answer): string {
  const set = answer.headers['set-cookie'] ?? [];
  return (Array.isArray(set) ? set : [set]).map((cookie) => cookie.split(';')[0]).join('; ');
}

/** Every key in Redis with its remaining lifetime in ms (-1: none), found with SCAN. */
async function keysWithTTL(conn: Redis): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  let cursor = '0';
  do {
    const [next, keys] = await conn.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) found.set(key, await conn.pttl(key));
  } while (cursor !== '0');
  return found;
}

let conn: Redis;
const gh = suiteGatehouse();

beforeAll(() => {
  conn = new Redis(gh.redis.url);
});

afterAll(() => {
  conn?.disconnect();
});

describe('anonymous requests and the store', () => {
  it('1,000 anonymous GETs of /device, /session/end and an unfinished /authorize leave only keys that expire within the interaction lifetime', async () => {
    await conn.flushall();
    const client = await oauthClient(gh.issuer, 'spa');
    const authorize = authorizationUrl(client, await pkce()).href;
    const pages = [`${gh.issuer}/device`, `${gh.issuer}/session/end`, authorize];
    // 25 visitors (addresses) with 40 requests each: under the per-address limit, so every
    // request is served and stores what it stores.
    const answers = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        get(pages[i % pages.length] as string, `127.0.1.${(i % 25) + 1}`),
      ),
    );
    expect(answers.filter((a) => a.status === 429)).toHaveLength(0);
    expect(answers.every((a) => a.status === 200 || a.status === 303)).toBe(true);

    const keys = await keysWithTTL(conn);
    keys.delete(SIGNING_KEYS_REDIS_KEY);
    const sessions = [...keys].filter(([key]) => key.startsWith('gatehouse:Session:'));
    // One session per /device and /session/end request: the limit did not hide the growth.
    expect(sessions.length).toBeGreaterThanOrEqual(600);
    for (const [key, ttl] of keys) {
      expect(ttl, key).toBeGreaterThan(0);
      expect(ttl, key).toBeLessThanOrEqual(INTERACTION_TTL * 1000 + 1000);
    }
    for (const [key, ttl] of sessions) expect(ttl, key).toBeLessThanOrEqual(ANONYMOUS_SESSION_TTL * 1000);
  });

  it('a signed-in session still lives as long as a refresh token family', async () => {
    await conn.flushall();
    await signIn(gh.server, gh.issuer);
    const sessions = [...(await keysWithTTL(conn))].filter(([key]) => key.startsWith('gatehouse:Session:'));
    expect(sessions).toHaveLength(1);
    const [, ttl] = sessions[0] as [string, number];
    expect(ttl).toBeGreaterThan((gh.server.config.refreshTokenTTL - 60) * 1000);
  });
});

describe('anonymous session creation per address', () => {
  it('a burst from one address past the limit gets the 429 page with Retry-After, and stores no more sessions', async () => {
    await conn.flushall();
    const from = '127.0.2.1';
    const burst = await Promise.all(
      Array.from({ length: 2 * ANONYMOUS_SESSION_LIMIT.limit + 40 }, (_, i) =>
        get(`${gh.issuer}/${i % 2 ? 'device' : 'session/end'}`, from),
      ),
    );
    const served = burst.filter((a) => a.status === 200);
    const refused = burst.filter((a) => a.status === 429);
    // A fixed window: a burst that straddles its end may be served twice the limit at most.
    expect(served.length).toBeGreaterThanOrEqual(1);
    expect(served.length).toBeLessThanOrEqual(2 * ANONYMOUS_SESSION_LIMIT.limit);
    expect(refused.length).toBeGreaterThanOrEqual(burst.length - 2 * ANONYMOUS_SESSION_LIMIT.limit);
    const tooMany = refused[0] as Answer;
    expect(Number(tooMany.headers['retry-after'])).toBeGreaterThan(0);
    expect(tooMany.headers['content-type']).toMatch(/^text\/html/);
    expect(tooMany.headers['content-security-policy']).toContain("default-src 'none'");
    expect(tooMany.body).toContain('Too many attempts');
    const sessions = [...(await keysWithTTL(conn))].filter(([key]) => key.startsWith('gatehouse:Session:'));
    expect(sessions.length).toBe(served.length);

    // Another address is not affected.
    expect((await get(`${gh.issuer}/device`, '127.0.2.2')).status).toBe(200);
  });

  it('a browser that has its session is not counted; a forged or stale session cookie is', async () => {
    await conn.flushall();
    const from = '127.0.3.1';
    const first = await get(`${gh.issuer}/device`, from);
    expect(first.status).toBe(200);
    const cookie = cookiesOf(first);
    expect(cookie).toContain('_session=');
    await Promise.all(
      Array.from({ length: ANONYMOUS_SESSION_LIMIT.limit }, () => get(`${gh.issuer}/device`, from)),
    );
    // The address is at its limit now; the visitor with a live session still gets the form.
    expect((await get(`${gh.issuer}/device`, from)).status).toBe(429);
    const again = await get(`${gh.issuer}/device`, from, cookie);
    expect(again.status).toBe(200);
    expect(again.body).toContain('name="user_code"');
    expect((await get(`${gh.issuer}/device`, from, '_session=forged; _session.sig=forged')).status).toBe(429);
    // A cookie signed by us whose session is gone (expired) would store a new session each time.
    await conn.del(`gatehouse:Session:{${/_session=([^;]+)/.exec(cookie)?.[1]}}`);
    expect((await get(`${gh.issuer}/device`, from, cookie)).status).toBe(429);
  });
});
