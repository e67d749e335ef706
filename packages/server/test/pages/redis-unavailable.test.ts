import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/provider.ts';

let redis: RedisProcess;
let server: TestServer;

beforeAll(async () => {
  redis = await startRedis();
  server = await startTestServer({ redis });
});

afterAll(async () => {
  await server?.close();
  await redis?.cleanup();
});

describe('pages while Redis is away', () => {
  it('answer 503 with Retry-After and a page, and work again when Redis is back', async () => {
    const form = await fetch(`${server.issuer}/forgot-password`);
    const cookie = (form.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
    const submit = () =>
      fetch(`${server.issuer}/forgot-password`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body: new URLSearchParams({ csrf, email: 'someone@example.com' }),
      });

    await redis.stop();
    const down = await submit();
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('1');
    expect(down.headers.get('content-security-policy')).toContain("default-src 'none'");
    const body = await down.text();
    expect(body).toContain('try again in a few seconds');
    expect(body).not.toMatch(/ECONNREFUSED|Connection is closed|ioredis|stream isn't writeable/i);

    await redis.restart();
    await expect.poll(async () => (await submit()).status, { timeout: 10_000 }).toBe(200);
  });
});
