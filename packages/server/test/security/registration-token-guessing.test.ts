import { suiteGatehouse } from '@gatehouse/testkit/server';
import { describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../src/observability/security-events.ts';
import { REGISTRATION_TOKEN_FAILURES_PER_IP } from '../../src/security/guess-throttles.ts';

const REGISTRATION_TOKEN = 'registration-token-0123456789abcdef';
const LIMIT = REGISTRATION_TOKEN_FAILURES_PER_IP.limit;

// The attack: RFC 7591 registration checked every initial access token it was sent, however many
// came from one address. The operator chooses that token (16 characters at least); a script that
// guesses it registers clients, redirect URIs of its choosing included, under the server's name.
describe('registration initial access tokens guessed from one address (real server, real Redis)', () => {
  const events: SecurityEvent[] = [];
  // One proxy in front, so each test can come from an address of its own (X-Forwarded-For).
  const gh = suiteGatehouse({
    env: { GATEHOUSE_REGISTRATION_TOKEN: REGISTRATION_TOKEN, TRUST_PROXY: '1' },
    gatehouse: { onSecurityEvent: (event) => events.push(event) },
  });

  /** Registers a web client from `ip` with `token` (none: no Authorization header). */
  async function register(ip: string, token: string | undefined) {
    const response = await fetch(`${gh.issuer}/register/client`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-forwarded-for': ip,
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify({ redirect_uris: ['https://app.example.test/callback'] }),
    });
    const body = (await response.json()) as { error?: string; client_id?: string };
    return { status: response.status, body, retryAfter: Number(response.headers.get('retry-after')) };
  }

  it(`checks at most ${LIMIT} of 40 parallel wrong tokens, then refuses the right one from that address`, async () => {
    const ip = '203.0.113.40';
    const before = events.length;
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => register(ip, `guess-${i}-0123456789abcdef`)),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(LIMIT);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    const refused = results.find((r) => r.status === 429);
    expect(refused?.body).toMatchObject({ error: 'invalid_token' });
    expect(refused?.retryAfter).toBeGreaterThanOrEqual(1);

    const right = await register(ip, REGISTRATION_TOKEN);
    expect(right.status).toBe(429);
    expect(right.retryAfter).toBeGreaterThan(60);
    expect(events.slice(before).filter((e) => e.type === 'lockout')).toEqual([
      expect.objectContaining({ type: 'lockout', scope: 'registration_token', ip }),
    ]);

    // Another address registers as before.
    const elsewhere = await register('198.51.100.40', REGISTRATION_TOKEN);
    expect(elsewhere.status).toBe(201);
    expect(elsewhere.body.client_id).toEqual(expect.any(String));
  });

  it('never counts the right token, nor a request without one', async () => {
    const ip = '203.0.113.50';
    for (let i = 0; i < LIMIT + 2; i++) {
      expect((await register(ip, REGISTRATION_TOKEN)).status).toBe(201);
      expect((await register(ip, undefined)).status).toBe(401);
    }
    // A few wrong ones under the limit still leave the right one working.
    for (let i = 0; i < LIMIT - 1; i++)
      expect((await register(ip, `typo-${i}-0123456789abcdef`)).status).toBe(401);
    expect((await register(ip, REGISTRATION_TOKEN)).status).toBe(201);
  });
});
