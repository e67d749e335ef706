import { basic, SERVICE_SECRET } from '@gatehouse/testkit/clients';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { DEVICE_AUTHORIZATIONS_PER_IP } from '../../src/security/public-client-limits.ts';

const LIMIT = DEVICE_AUTHORIZATIONS_PER_IP.limit;

// The attack: /device/auth issued a device code (a record kept 10 minutes, with its user-code
// pointer) to every request of a public client, however many came from one address, so one
// address could fill Redis with them.
describe('device authorizations started from one address (real server, real Redis)', () => {
  // One proxy in front, so each test can come from an address of its own (X-Forwarded-For).
  const gh = suiteGatehouse({ env: { TRUST_PROXY: '1' } });

  const start = (ip: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${gh.issuer}/device/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip, ...headers },
      body: new URLSearchParams(form),
    });

  it(`issues at most ${LIMIT} device codes to a parallel burst of 3 × ${LIMIT}, and stores no more`, async () => {
    const conn = new Redis(gh.redis.url);
    try {
      const deviceCodes = async () => (await conn.keys('gatehouse:DeviceCode:*')).length;
      const before = await deviceCodes();
      const responses = await Promise.all(
        Array.from({ length: 3 * LIMIT }, () => start('203.0.113.60', { client_id: 'cli', scope: 'openid' })),
      );
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 200).length).toBe(LIMIT);
      expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
      const refused = responses.find((r) => r.status === 429);
      expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await refused?.json()).toMatchObject({ error: 'temporarily_unavailable' });
      expect((await deviceCodes()) - before).toBe(LIMIT);

      // Another address starts its own.
      expect((await start('198.51.100.60', { client_id: 'cli', scope: 'openid' })).status).toBe(200);
    } finally {
      conn.disconnect();
    }
  });

  it('counts a request with an empty client_secret or client_assertion as the public client it is', async () => {
    // oidc-provider reads an empty credential field as absent and issues the code all the same.
    const forms = [{ client_secret: '' }, { client_assertion: '' }, {}];
    const responses = await Promise.all(
      Array.from({ length: 2 * LIMIT }, (_, i) =>
        start('203.0.113.90', { client_id: 'cli', scope: 'openid', ...forms[i % forms.length] }),
      ),
    );
    expect(responses.filter((r) => r.status === 200).length).toBe(LIMIT);
    expect(responses.map((r) => r.status).filter((s) => s !== 200 && s !== 429)).toEqual([]);
  });

  it('counts only device codes issued: refused requests cost nothing', async () => {
    const ip = '203.0.113.70';
    for (let i = 0; i < LIMIT + 5; i++) {
      expect((await start(ip, { client_id: 'no-such-client', scope: 'openid' })).status).toBe(401);
    }
    expect((await start(ip, { client_id: 'cli', scope: 'openid' })).status).toBe(200);
  });

  it('does not limit a client that authenticates (its secret is what the lockout guards)', async () => {
    // The service client has no device grant: a 400 from the provider, never the 429 of this limit.
    const ip = '203.0.113.80';
    for (let i = 0; i < LIMIT + 5; i++) {
      const response = await start(ip, { scope: 'recipes:read' }, basic('service', SERVICE_SECRET));
      expect(response.status).not.toBe(429);
    }
  });
});
