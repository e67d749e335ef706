import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { basic, SERVICE_SECRET } from './clients.ts';
import { startGatehouse, suiteGatehouse } from './start-gatehouse.ts';

const BILLING = 'https://billing.example.test';

/** A client-credentials token of the test `service` client for `resource`. */
async function serviceToken(issuer: string, resource: string) {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic('service', SERVICE_SECRET) },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'recipes:read', resource }),
  });
  return { status: response.status, body: (await response.json()) as { access_token?: string } };
}

describe('suiteGatehouse()', () => {
  const gh = suiteGatehouse({ resources: [{ uri: BILLING, scopes: ['recipes:read', 'recipes:write'] }] });

  it('runs a server on the suite’s own Redis, with the resources it was given', async () => {
    expect(gh.redis.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const { status, body } = await serviceToken(gh.issuer, BILLING);
    expect(status).toBe(200);
    expect(decodeJwt(String(body.access_token)).aud).toBe(BILLING);
  });
});

describe('suiteGatehouse({ redis: false })', () => {
  const gh = suiteGatehouse(() => ({ redis: false, env: { ACCESS_TOKEN_TTL: '120' } }));

  it('runs on the in-process store and says so when asked for a Redis', async () => {
    expect(() => gh.redis).toThrow(/no redis-server/);
    const response = await fetch(`${gh.issuer}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
  });
});

describe('startGatehouse({ resources })', () => {
  it('refuses tokens for an API that is not in the file', async () => {
    const gh = await startGatehouse({
      resources: [{ uri: BILLING, scopes: ['recipes:read', 'recipes:write'] }],
    });
    try {
      const { status, body } = await serviceToken(gh.issuer, 'https://elsewhere.example.test');
      expect(status).toBe(400);
      expect(body).toMatchObject({ error: 'invalid_target' });
    } finally {
      await gh.stop();
    }
  });
});
