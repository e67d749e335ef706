import { createHash } from 'node:crypto';
import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { launchChromium } from '@gatehouse/testkit/chromium';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  authorizationRequest,
  exchangeCode,
  PUBLIC_CLIENT_ID,
  refresh,
  startTestServer,
  type TestServer,
} from './support/provider.ts';

const PASSWORD = 'correct horse battery staple';

let browser: Browser;
let redis: RedisProcess;
let server: TestServer;

beforeAll(async () => {
  redis = await startRedis();
  [browser, server] = await Promise.all([launchChromium(), startTestServer({ redis })]);
});

afterAll(async () => {
  await Promise.all([browser?.close(), server?.close()]);
  await redis?.cleanup();
});

afterEach(() => vi.useRealTimers());

let n = 0;
async function newUser(): Promise<string> {
  const email = `signout${n++}.${Date.now()}@example.com`;
  await server.accounts.create({ email, password: PASSWORD, name: 'Ada Lovelace', emailVerified: true });
  return email;
}

/** A browser context that records what the browser posted to the sign-out confirm step, and CSP complaints. */
async function recordingContext(): Promise<{
  context: BrowserContext;
  page: Page;
  confirmations: URLSearchParams[];
  cspViolations: string[];
}> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const confirmations: URLSearchParams[] = [];
  const cspViolations: string[] = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url() === `${server.issuer}/session/end/confirm`) {
      confirmations.push(new URLSearchParams(request.postData() ?? ''));
    }
  });
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  return { context, page, confirmations, cspViolations };
}

interface Tokens {
  readonly idToken: string;
  readonly refreshToken: string;
}

/**
 * Signs `email` in to the public client in `page` (consent on first use) and redeems the code.
 * No offline_access: the refresh token lives as long as the browser session.
 */
async function signIn(page: Page, email: string): Promise<Tokens> {
  const request = authorizationRequest(server, 'openid email profile');
  await page.goto(request.url);
  if ((await page.title()) === 'Sign in · Gatehouse') {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  const allow = page.getByRole('button', { name: 'Allow' });
  await page.waitForURL(
    (url) => url.href.startsWith(server.redirectUri) || url.pathname.startsWith('/interaction/'),
  );
  if (!page.url().startsWith(server.redirectUri)) {
    await allow.click();
    await page.waitForURL((url) => url.href.startsWith(server.redirectUri));
  }
  const code = new URL(page.url()).searchParams.get('code') ?? '';
  const tokens = await exchangeCode(server, code, request.verifier);
  expect(tokens.status).toBe(200);
  return { idToken: String(tokens.body.id_token), refreshToken: String(tokens.body.refresh_token) };
}

const signedOutUri = () => `${server.clientOrigin}/signed-out`;

function endSessionUrl(idTokenHint?: string): string {
  const url = new URL(`${server.issuer}/session/end`);
  url.search = new URLSearchParams({
    ...(idTokenHint ? { id_token_hint: idTokenHint } : { client_id: PUBLIC_CLIENT_ID }),
    post_logout_redirect_uri: signedOutUri(),
    state: 'bye',
  }).toString();
  return url.href;
}

/** Whether the browser's Gatehouse session is over: `prompt=none` answers login_required. */
async function expectSignedOut(page: Page): Promise<void> {
  await page.goto(`${authorizationRequest(server).url}&prompt=none`);
  await page.waitForURL((url) => url.href.startsWith(server.redirectUri));
  expect(new URL(page.url()).searchParams.get('error')).toBe('login_required');
}

describe('RP-initiated sign-out with an id_token_hint of this session', () => {
  it('signs out without a question, lands on the post-logout redirect and revokes the refresh token', async () => {
    const email = await newUser();
    const { context, page, confirmations, cspViolations } = await recordingContext();
    const { idToken, refreshToken } = await signIn(page, email);
    const refreshed = await refresh(server, refreshToken);
    expect(refreshed.status).toBe(200);

    // Nobody clicks anything: the page posts oidc-provider's confirm step by itself.
    await page.goto(endSessionUrl(idToken));
    await page.waitForURL((url) => url.href.startsWith(signedOutUri()));
    expect(new URL(page.url()).searchParams.get('state')).toBe('bye');
    expect(confirmations.map((form) => form.get('logout'))).toEqual(['yes']);
    expect(cspViolations).toEqual([]);

    await expectSignedOut(page);
    expect((await refresh(server, String(refreshed.body.refresh_token))).body.error).toBe('invalid_grant');
    await context.close();
  });

  it('works without JavaScript: a Continue button posts the same form, and no question is on the page', async () => {
    const email = await newUser();
    const { context, page } = await recordingContext();
    const { idToken, refreshToken } = await signIn(page, email);
    const cookie = (await context.cookies(server.issuer)).map((c) => `${c.name}=${c.value}`).join('; ');

    const response = await fetch(endSessionUrl(idToken), { headers: { cookie } });
    expect(response.status).toBe(200);
    const body = await response.text();
    expect(body).toContain('<title>Signing you out · Gatehouse</title>');
    expect(body).not.toMatch(/Sign out\?|Stay signed in/);
    const form = /<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(body);
    expect(form?.[1]).toBe(`${server.issuer}/session/end/confirm`);
    expect(form?.[2]).toContain('<input type="hidden" name="logout" value="yes">');
    expect(form?.[2]).toMatch(/<button type="submit"[^>]*>Continue<\/button>/);

    // The one inline script is allowed by its hash, and nothing else is.
    const script = /<script>([^<]*)<\/script>/.exec(body)?.[1] ?? '';
    const hash = createHash('sha256').update(script).digest('base64');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(/script-src ([^;]*)/.exec(csp)?.[1]).toBe(`'sha256-${hash}'`);
    expect(csp).toContain(`form-action 'self' ${server.clientOrigin}`);

    const xsrf = /name="xsrf" value="([^"]+)"/.exec(form?.[2] ?? '')?.[1] ?? '';
    const confirmed = await fetch(form?.[1] ?? '', {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, logout: 'yes' }),
    });
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.get('location')).toBe(`${signedOutUri()}?state=bye`);
    expect((await refresh(server, refreshToken)).body.error).toBe('invalid_grant');
    await expectSignedOut(page);
    await context.close();
  });
});

describe('RP-initiated sign-out that still asks', () => {
  async function expectQuestion(page: Page, url: string): Promise<void> {
    await page.goto(url);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Sign out?');
    expect(await page.getByRole('button', { name: 'Stay signed in' }).count()).toBe(1);
  }

  it('asks without a hint; confirmed, the session ends and the refresh token is revoked the same way', async () => {
    const email = await newUser();
    const { context, page, cspViolations } = await recordingContext();
    const { refreshToken } = await signIn(page, email);

    await expectQuestion(page, endSessionUrl());
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.href.startsWith(signedOutUri()));
    expect(cspViolations).toEqual([]);
    await expectSignedOut(page);
    expect((await refresh(server, refreshToken)).body.error).toBe('invalid_grant');
    await context.close();
  });

  it("asks when the hint is another user's ID token, and showing the question ends nothing", async () => {
    const [victim, other] = [await newUser(), await newUser()];
    const { context, page } = await recordingContext();
    const { refreshToken } = await signIn(page, victim);
    const elsewhere = await browser.newContext();
    const { idToken: othersToken } = await signIn(await elsewhere.newPage(), other);
    await elsewhere.close();

    await expectQuestion(page, endSessionUrl(othersToken));
    expect((await refresh(server, refreshToken)).status).toBe(200);
    await context.close();
  });

  it('asks when the hint is from an earlier sign-in in this browser', async () => {
    const email = await newUser();
    const { context, page } = await recordingContext();
    const { idToken: earlier } = await signIn(page, email);
    await expectQuestion(page, endSessionUrl());
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.href.startsWith(signedOutUri()));

    // Signed in again later: the earlier ID token names the same user, not this session.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 5_000 });
    await signIn(page, email);
    await expectQuestion(page, endSessionUrl(earlier));
    await context.close();
  });
});
