import { REVOCATION_CHANNEL, REVOKED_KEY } from '@gatehouse/resource';
import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOW_SECONDS, startApi, startTestIssuer, type TestIssuer } from './fixtures.ts';

let issuer: TestIssuer;
let redis: RedisProcess;
let conn: Redis;
beforeAll(async () => {
  issuer = await startTestIssuer();
  redis = await startRedis();
  conn = new Redis(redis.url);
});
afterAll(async () => {
  conn.disconnect();
  await issuer.close();
  await redis.cleanup();
});

describe('demo API token handling', () => {
  it('stops accepting a token once its grant is revoked at the server (Redis pub/sub)', async () => {
    const running = await startApi(issuer, { redis: conn });
    try {
      await running.api.verifier.ready();
      const token = await issuer.mint(running.url, { gid: 'grant-to-revoke' });
      const me = () => fetch(`${running.url}/me`, { headers: { authorization: `Bearer ${token}` } });
      expect((await me()).status).toBe(200);
      // Wait until the API's subscriber listens, as a long-running API would.
      while (((await conn.call('PUBSUB', ['NUMSUB', REVOCATION_CHANNEL])) as [string, number])[1] < 1) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const started = performance.now();
      await conn.zadd(REVOKED_KEY, NOW_SECONDS + 900, 'grant:grant-to-revoke');
      await conn.publish(
        REVOCATION_CHANNEL,
        JSON.stringify({ type: 'grant', id: 'grant-to-revoke', exp: NOW_SECONDS + 900 }),
      );
      let response = await me();
      while (response.status === 200 && performance.now() - started < 20_000) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        response = await me();
      }
      console.log(
        `revoked at the server → refused by the API after ${(performance.now() - started).toFixed(1)} ms`,
      );
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('error_description="token revoked"');
    } finally {
      await running.close();
    }
  });

  it('answers 503 with Retry-After when the issuer JWKS is down and nothing is cached', async () => {
    issuer.jwksDown = true;
    const running = await startApi(issuer);
    try {
      const token = await issuer.mint(running.url);
      const response = await fetch(`${running.url}/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).not.toBeNull();
    } finally {
      issuer.jwksDown = false;
      await running.close();
    }
  });

  it('refuses a token minted for another API (aud)', async () => {
    const running = await startApi(issuer);
    try {
      const token = await issuer.mint('http://other-api.example.test');
      const response = await fetch(`${running.url}/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('invalid aud claim');
    } finally {
      await running.close();
    }
  });
});
