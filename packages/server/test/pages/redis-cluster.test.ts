import { type RedisClusterProcess, startRedisCluster } from '@gatehouse/testkit';
import { launchChromium } from '@gatehouse/testkit/chromium';
import { Cluster } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailCounterId } from '../../src/security/login-throttle.ts';
import { rateLimitKey } from '../../src/store/keys.ts';
import { authorizationRequest, exchangeCode, startTestServer, type TestServer } from './support/provider.ts';

const PASSWORD = 'correct horse battery staple';

let browser: Browser;
let cluster: RedisClusterProcess;
let conn: Cluster;
let server: TestServer;

beforeAll(async () => {
  [browser, cluster] = await Promise.all([launchChromium(), startRedisCluster(3)]);
  server = await startTestServer({ redis: { seeds: cluster.seeds } });
  // The test's own view of the cluster, to see what the server stored.
  conn = new Cluster(cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })));
});

afterAll(async () => {
  await Promise.all([browser?.close(), server?.close()]);
  conn?.disconnect();
  await cluster?.cleanup();
});

async function signIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('pages on a 3-master Redis Cluster', () => {
  it('signs in, consents and records the grant with accounts in the cluster', async () => {
    const email = `cluster.${Date.now()}@example.com`;
    const account = await server.accounts.create({ email, password: PASSWORD, emailVerified: true });
    const page = await browser.newPage();
    const request = authorizationRequest(server);
    await page.goto(request.url);
    await signIn(page, email);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((url) => url.href.startsWith(server.redirectUri));
    const code = new URL(page.url()).searchParams.get('code') ?? '';
    expect((await exchangeCode(server, code, request.verifier)).status).toBe(200);
    expect(await server.accounts.grantIds(account.id)).toHaveLength(1);
    await page.close();
  });

  it('keeps lockout counters in Redis, where every instance sees them', async () => {
    const email = `locked.${Date.now()}@example.com`;
    await server.accounts.create({ email, password: PASSWORD });
    const page = await browser.newPage();
    await page.goto(authorizationRequest(server).url);
    for (let i = 0; i < 5; i++) await signIn(page, email, `wrong password ${i}`);
    const locked = page.waitForResponse((r) => r.request().method() === 'POST');
    await signIn(page, email);
    expect((await locked).status()).toBe(429);
    expect(await conn.get(rateLimitKey(`login:account:${emailCounterId(email)}`))).toBe('5');
    await page.close();
  });
});
