import { launchChromium } from '@gatehouse/testkit/chromium';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  authorizationRequest,
  DEVICE_CLIENT_ID,
  PUBLIC_CLIENT_ID,
  startTestServer,
  type TestServer,
  tokenRequest,
} from './support/provider.ts';
import { linkIn, startSmtpServer, type TestSmtpServer } from './support/smtp.ts';

const PASSWORD = 'correct horse battery staple';

let browser: Browser;
let server: TestServer;
let smtp: TestSmtpServer;

beforeAll(async () => {
  smtp = await startSmtpServer();
  [browser, server] = await Promise.all([launchChromium(), startTestServer({ smtpUrl: smtp.url })]);
});

afterAll(async () => {
  await Promise.all([browser?.close(), server?.close(), smtp?.close()]);
});

afterEach(() => vi.useRealTimers());

let n = 0;
const uniqueEmail = (label: string) => `${label}.${n++}.${Date.now()}@example.com`;

/** A browser context that records every page (document) response and every CSP complaint. */
async function recordingContext(): Promise<{
  context: BrowserContext;
  page: Page;
  documents: Response[];
  cspViolations: string[];
}> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const documents: Response[] = [];
  const cspViolations: string[] = [];
  page.on('response', (response) => {
    if (response.request().resourceType() === 'document' && response.url().startsWith(server.issuer)) {
      documents.push(response);
    }
  });
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  return { context, page, documents, cspViolations };
}

function expectStrictHeaders(response: Response): void {
  const headers = response.headers();
  const csp = headers['content-security-policy'] ?? '';
  expect(csp, response.url()).toContain("default-src 'none'");
  expect(csp).toContain("style-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("base-uri 'none'");
  expect(csp).toMatch(/form-action 'self'/);
  expect(headers['cache-control'], response.url()).toBe('no-store');
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['x-content-type-options']).toBe('nosniff');
}

async function signIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function csrfTokenOf(page: Page): Promise<string> {
  return (await page.locator('input[name="csrf"]').first().getAttribute('value')) ?? '';
}

describe('sign-up and email confirmation', () => {
  it('registers through the form, mails a link over SMTP, and confirms the address once', async () => {
    const { context, page, documents, cspViolations } = await recordingContext();
    const email = uniqueEmail('New.Person');
    await page.goto(`${server.issuer}/register`);
    await page.getByLabel('Name').fill('New Person');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('short');
    // The browser's own minlength check is bypassed to see the server's message.
    await page.locator('form').evaluate((form) => form.setAttribute('novalidate', ''));
    await page.getByRole('button', { name: 'Create account' }).click();
    expect(await page.getByRole('alert').textContent()).toBe(
      'Choose another password: Use at least 12 characters.',
    );
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Check your email');

    const mail = await smtp.waitFor(email, /Confirm your email address/);
    const link = linkIn(mail);
    expect(link.startsWith(`${server.issuer}/verify-email?token=`)).toBe(true);
    expect((await server.accounts.findByEmail(email))?.emailVerified).toBe(false);

    await page.goto(link);
    await page.getByRole('button', { name: 'Confirm email address' }).click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      'Email address confirmed',
    );
    expect((await server.accounts.findByEmail(email))?.emailVerified).toBe(true);

    const reused = await page.goto(link);
    expect(reused?.status()).toBe(400);
    expect(await page.getByRole('alert').textContent()).toMatch(/no longer valid/);

    for (const response of documents) expectStrictHeaders(response);
    expect(cspViolations).toEqual([]);
    await context.close();
  });

  it('sends a new confirmation link on request, and the new link confirms the address', async () => {
    const { context, page, documents, cspViolations } = await recordingContext();
    const email = uniqueEmail('Lost.Mail');
    await page.goto(`${server.issuer}/register`);
    await page.getByLabel('Name').fill('Lost Mail');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    const first = linkIn(await smtp.waitFor(email, /Confirm your email address/));

    // The first message went missing: the page after sign-up offers a new one.
    await page.getByRole('link', { name: 'Send a new link' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send a new link' }).click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Check your email');
    await expect.poll(() => smtp.messages.filter((m) => m.to.includes(email.toLowerCase())).length).toBe(2);
    const second = linkIn(smtp.messages.filter((m) => m.to.includes(email.toLowerCase()))[1]!);
    expect(second).not.toBe(first);

    await page.goto(second);
    await page.getByRole('button', { name: 'Confirm email address' }).click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      'Email address confirmed',
    );
    expect((await server.accounts.findByEmail(email))?.emailVerified).toBe(true);

    for (const response of documents) expectStrictHeaders(response);
    expect(cspViolations).toEqual([]);
    await context.close();
  });

  it('answers an already-registered email like a new one and tells the owner by mail', async () => {
    const email = uniqueEmail('taken');
    await server.accounts.create({ email, password: PASSWORD });
    const { context, page } = await recordingContext();
    await page.goto(`${server.issuer}/register`);
    await page.getByLabel('Email').fill(email.toUpperCase());
    await page.getByLabel('Password').fill('another good passphrase');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Check your email');
    const mail = await smtp.waitFor(email, /already have an account/);
    expect(mail.text).toContain('/forgot-password');
    expect(await server.accounts.verifyPassword(email, PASSWORD)).toMatchObject({ ok: true });
    await context.close();
  });

  it('is closed when GATEHOUSE_REGISTRATION=closed', async () => {
    const closed = await startTestServer({ selfRegistration: 'closed' });
    try {
      const page = await browser.newPage();
      const response = await page.goto(`${closed.issuer}/register`);
      expect(response?.status()).toBe(403);
      expect(await page.getByRole('alert').textContent()).toMatch(/cannot be created/);
      await page.goto(authorizationRequest(closed).url);
      expect(await page.getByRole('link', { name: 'Create an account' }).count()).toBe(0);
      expect(await page.getByRole('link', { name: 'Forgot your password?' }).count()).toBe(1);
      const post = await page.request.post(`${closed.issuer}/register`, {
        form: { email: uniqueEmail('nope'), password: PASSWORD },
        maxRedirects: 0,
      });
      expect(post.status()).toBe(403);
      await page.close();
    } finally {
      await closed.close();
    }
  });
});

describe('password reset', () => {
  it('mails a single-use link over SMTP that sets a new password', async () => {
    const email = uniqueEmail('forgetful');
    await server.accounts.create({ email, password: PASSWORD });
    const { context, page, documents, cspViolations } = await recordingContext();
    await page.goto(authorizationRequest(server).url);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    expect(await page.getByRole('status').textContent()).toMatch(/If an account exists for that address/);

    const link = linkIn(await smtp.waitFor(email, /Reset your password/));
    await page.goto(link);
    await page.getByLabel('New password').fill('a fresh new passphrase');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Password changed');
    expect(await server.accounts.verifyPassword(email, 'a fresh new passphrase')).toMatchObject({ ok: true });
    expect(await server.accounts.verifyPassword(email, PASSWORD)).toMatchObject({ ok: false });
    expect((await server.accounts.findByEmail(email))?.emailVerified).toBe(true);

    const reused = await page.goto(link);
    expect(reused?.status()).toBe(400);
    expect(await page.getByRole('alert').textContent()).toMatch(/already used, or it is older than 1 hour/);

    for (const response of documents) expectStrictHeaders(response);
    expect(cspViolations).toEqual([]);
    await context.close();
  });

  it('expires the link after one hour (frozen clock)', async () => {
    const email = uniqueEmail('slow');
    await server.accounts.create({ email, password: PASSWORD });
    const page = await browser.newPage();
    await page.goto(`${server.issuer}/forgot-password`);
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    const link = linkIn(await smtp.waitFor(email, /Reset your password/));
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 60 * 60 * 1000 + 1_000 });
    const response = await page.goto(link);
    expect(response?.status()).toBe(400);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('This link has expired');
    await page.close();
  });

  it('answers known and unknown emails with the same page', async () => {
    const known = uniqueEmail('known');
    await server.accounts.create({ email: known, password: PASSWORD });
    const page = await browser.newPage();
    await page.goto(`${server.issuer}/forgot-password`);
    const csrf = await csrfTokenOf(page);
    const answers = [];
    for (const email of [known, uniqueEmail('unknown')]) {
      const response = await page.request.post(`${server.issuer}/forgot-password`, { form: { csrf, email } });
      const headers = response.headers();
      answers.push({
        status: response.status(),
        body: await response.text(),
        headerNames: Object.keys(headers)
          .filter((name) => name !== 'date' && name !== 'set-cookie')
          .sort(),
        csp: headers['content-security-policy'],
      });
    }
    expect(answers[0]?.status).toBe(200);
    expect(answers[1]).toEqual(answers[0]);
    await smtp.waitFor(known, /Reset your password/);
    await page.close();
  });
});

describe('CSRF', () => {
  it('refuses a form without or with a wrong token with a 403 page and changes nothing', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.issuer}/register`);
    const csrf = await csrfTokenOf(page);
    const email = uniqueEmail('csrf');
    for (const form of [
      { email, password: PASSWORD },
      { email, password: PASSWORD, csrf: `${csrf.slice(0, -2)}xx` },
    ]) {
      const response = await page.request.post(`${server.issuer}/register`, { form });
      expect(response.status()).toBe(403);
      expect(await response.text()).toContain('This form has expired');
      expectStrictHeaders(response as unknown as Response);
    }
    expect(await server.accounts.findByEmail(email)).toBeUndefined();

    // The right token from another form does not do either.
    await page.goto(`${server.issuer}/forgot-password`);
    const forgotToken = await csrfTokenOf(page);
    const crossForm = await page.request.post(`${server.issuer}/register`, {
      form: { email, password: PASSWORD, csrf: forgotToken },
    });
    expect(crossForm.status()).toBe(403);
    expect(await server.accounts.findByEmail(email)).toBeUndefined();

    // A sign-in with a forged token neither signs in nor counts as a failure.
    const victim = uniqueEmail('victim');
    await server.accounts.create({ email: victim, password: PASSWORD });
    await page.goto(authorizationRequest(server).url);
    const action = (await page.locator('form').first().getAttribute('action')) ?? '';
    for (let i = 0; i < 6; i++) {
      const forged = await page.request.post(`${server.issuer}${action}`, {
        form: { email: victim, password: 'wrong password here', csrf: 'forged' },
        maxRedirects: 0,
      });
      expect(forged.status()).toBe(403);
    }
    await signIn(page, victim);
    await page.waitForURL(/\/interaction\/[^/]+$/);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toMatch(/^Allow /);
    await page.close();
  });
});

describe('device flow and provider pages', () => {
  it('connects a device through /device, sign-in and consent, with Gatehouse pages', async () => {
    const email = uniqueEmail('tv');
    await server.accounts.create({ email, password: PASSWORD, emailVerified: true });
    const start = await fetch(`${server.issuer}/device/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: DEVICE_CLIENT_ID, scope: 'openid email' }),
    });
    const device = (await start.json()) as {
      device_code: string;
      user_code: string;
      verification_uri: string;
    };
    const poll = () =>
      tokenRequest(server, {
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: device.device_code,
        client_id: DEVICE_CLIENT_ID,
      });
    expect((await poll()).body.error).toBe('authorization_pending');

    const { context, page, documents, cspViolations } = await recordingContext();
    await page.goto(device.verification_uri);
    await page.getByLabel('Code shown on your device').fill('WRONG-CODE');
    await page.getByRole('button', { name: 'Continue' }).click();
    expect(await page.getByRole('alert').textContent()).toBe(
      'That code is not right. Check it and try again.',
    );
    await page.getByLabel('Code shown on your device').fill(device.user_code);
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect(page.locator('code.user-code').textContent()).resolves.toBe(device.user_code);
    await page.getByRole('button', { name: 'Continue' }).click();
    await signIn(page, email);
    await page.getByRole('button', { name: 'Allow' }).click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      'Your device is connected',
    );

    const tokens = await poll();
    expect(tokens.status).toBe(200);
    expect(tokens.body.access_token).toEqual(expect.any(String));
    for (const response of documents) expectStrictHeaders(response);
    expect(cspViolations).toEqual([]);
    await context.close();
  });

  it('lists the permissions again when a native client asks again for consent the account gave before', async () => {
    const email = uniqueEmail('second-tv');
    await server.accounts.create({ email, password: PASSWORD, emailVerified: true });
    /** One device connected through the pages; returns the consent page's permissions and text. */
    const connectDevice = async () => {
      const start = await fetch(`${server.issuer}/device/auth`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: DEVICE_CLIENT_ID, scope: 'openid email' }),
      });
      const device = (await start.json()) as { user_code: string; verification_uri: string };
      const { context, page } = await recordingContext();
      await page.goto(device.verification_uri);
      await page.getByLabel('Code shown on your device').fill(device.user_code);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('button', { name: 'Continue' }).click();
      await signIn(page, email);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Allow Recipe TV?');
      const permissions = await page.locator('ul.scopes li').allTextContents();
      const text = await page.locator('main').textContent();
      await page.getByRole('button', { name: 'Allow' }).click();
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
        'Your device is connected',
      );
      await context.close();
      return { permissions, text };
    };
    const expected = [
      'Know who you are when you sign in',
      'See your email address and whether it is verified',
    ];
    const first = await connectDevice();
    expect(first.permissions).toEqual(expected);
    expect(first.text).not.toContain('You allowed this before');
    // oidc-provider asks a native client's user again (nothing is missing from the grant): the
    // page still says what is being allowed, never an empty "would like to:".
    const second = await connectDevice();
    expect(second.permissions).toEqual(expected);
    expect(second.text).toContain('You allowed this before; Recipe TV asks you to confirm it.');
  });

  it('confirms sign-out and returns to the client; errors show no internals', async () => {
    const email = uniqueEmail('leaving');
    await server.accounts.create({ email, password: PASSWORD });
    const { context, page, documents, cspViolations } = await recordingContext();
    await page.goto(authorizationRequest(server).url);
    await signIn(page, email);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((url) => url.href.startsWith(server.redirectUri));

    const end = new URL(`${server.issuer}/session/end`);
    end.search = new URLSearchParams({
      client_id: PUBLIC_CLIENT_ID,
      post_logout_redirect_uri: `${server.clientOrigin}/signed-out`,
    }).toString();
    await page.goto(end.href);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Sign out?');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.href.startsWith(`${server.clientOrigin}/signed-out`));

    const error = await page.goto(`${server.issuer}/authorize?client_id=no-such-client&response_type=code`);
    expect(error?.status()).toBe(400);
    const text = (await page.locator('body').textContent()) ?? '';
    expect(text).toContain('This request cannot be completed');
    expect(text).not.toMatch(/\bat .+\.js:\d+|Error:|node_modules/);

    for (const response of documents) expectStrictHeaders(response);
    expect(cspViolations).toEqual([]);
    await context.close();
  });

  it('serves the stylesheet every page links to', async () => {
    const response = await fetch(`${server.issuer}/assets/gatehouse.css`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/css/);
    expect(await response.text()).toContain(':focus-visible');
  });

  it('answers a browser asking for /favicon.ico with the icon the pages link to, never a 404', async () => {
    const anyPage = await fetch(`${server.issuer}/forgot-password`);
    const linked = /<link rel="icon" href="([^"]+)" type="image\/svg\+xml">/.exec(await anyPage.text())?.[1];
    expect(linked).toBeDefined();
    for (const path of ['/favicon.ico', linked ?? '']) {
      const response = await fetch(`${server.issuer}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/svg+xml');
      expect(response.headers.get('cache-control')).toBe('public, max-age=604800');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(await response.text()).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    }
  });
});
