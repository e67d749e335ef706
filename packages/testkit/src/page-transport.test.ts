import { Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInThroughPages, TEST_PASSWORD } from './interaction-driver.ts';
import { fetchTransport, nodeHttpTransport, type PageTransport } from './page-transport.ts';
import { suiteGatehouse } from './start-gatehouse.ts';

// One account per transport: a consent given once is remembered, and the second walk would skip its page.
const FETCH_EMAIL = 'fetch-transport@example.test';
const HTTP_EMAIL = 'http-transport@example.test';
const RETURNING_EMAIL = 'returning@example.test';
/** A first sign-in's steps: the consent page comes after the password. */
const WITH_CONSENT = [
  'authorize 303',
  'page 200',
  'login 303',
  'resume 303',
  'page 200',
  'confirm 303',
  'resume 303',
  'token 200',
];

describe('signInThroughPages over each transport', () => {
  const gh = suiteGatehouse();
  const agent = new Agent({ keepAlive: true });
  afterAll(() => agent.destroy());
  beforeAll(async () => {
    for (const email of [FETCH_EMAIL, HTTP_EMAIL, RETURNING_EMAIL])
      await gh.server.accounts.create({ email, password: TEST_PASSWORD, emailVerified: true });
  });

  /** The steps a sign-in walked, each with its status. */
  async function walk(transport: PageTransport, email: string, password: string, prompt?: 'consent') {
    const steps: string[] = [];
    const result = await signInThroughPages({
      issuer: gh.issuer,
      email,
      password,
      transport,
      ...(prompt ? { prompt } : {}),
      observe: (step, response) => steps.push(`${step} ${response.status}`),
    });
    return { steps, result };
  }

  it('walks the same pages and gets tokens with Node http as with fetch', async () => {
    const viaFetch = await walk(fetchTransport, FETCH_EMAIL, TEST_PASSWORD);
    const viaHttp = await walk(nodeHttpTransport(agent), HTTP_EMAIL, TEST_PASSWORD);
    expect(viaFetch.steps).toEqual(WITH_CONSENT);
    expect(viaHttp.steps).toEqual(viaFetch.steps);
    expect(viaHttp.result.token?.headers.get('content-type')).toMatch(/^application\/json/);
    expect(typeof viaHttp.result.token?.body.access_token).toBe('string');
    expect(typeof viaHttp.result.token?.body.refresh_token).toBe('string');
  });

  it('passes the consent page again with prompt=consent, which a remembered consent skips', async () => {
    const transport = nodeHttpTransport(agent);
    const first = await walk(transport, RETURNING_EMAIL, TEST_PASSWORD);
    const again = await walk(transport, RETURNING_EMAIL, TEST_PASSWORD);
    const asked = await walk(transport, RETURNING_EMAIL, TEST_PASSWORD, 'consent');
    expect(first.steps).toEqual(WITH_CONSENT);
    expect(again.steps).toEqual(['authorize 303', 'page 200', 'login 303', 'resume 303', 'token 200']);
    expect(asked.steps).toEqual(WITH_CONSENT);
    expect(typeof asked.result.token?.body.access_token).toBe('string');
  });

  it('stops at the sign-in page on a wrong password, with the page and its headers', async () => {
    const { steps, result } = await walk(nodeHttpTransport(agent), HTTP_EMAIL, 'not the password at all');
    expect(steps).toEqual(['authorize 303', 'page 200', 'login 401']);
    expect(result.stoppedAt?.status).toBe(401);
    expect(result.token).toBeUndefined();
    expect(result.stoppedAt?.headers.get('content-security-policy')).toBeTruthy();
    expect(result.stoppedAt?.body).toMatch(/<form method="post" action="[^"]+\/login">/);
  });

  it('refuses an https: URL rather than sending it in the clear', () => {
    const transport = nodeHttpTransport(agent);
    expect(() =>
      transport({ method: 'GET', url: new URL('https://gatehouse.example.test/authorize'), headers: {} }),
    ).toThrow(TypeError);
  });
});
