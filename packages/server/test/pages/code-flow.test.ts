import { launchChromium } from '@gatehouse/testkit/chromium';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { revokeAccountAccess } from '../../src/accounts/index.ts';
import {
  authorizationRequest,
  exchangeCode,
  jwtClaims,
  PUBLIC_CLIENT_NAME,
  refresh,
  startTestServer,
  type TestServer,
} from './support/provider.ts';

const PASSWORD = 'correct horse battery staple';

let browser: Browser;
let server: TestServer;

beforeAll(async () => {
  [browser, server] = await Promise.all([launchChromium(), startTestServer()]);
});

afterAll(async () => {
  await Promise.all([browser?.close(), server?.close()]);
});

let n = 0;
async function newUser(options: { name?: string; verified?: boolean } = {}) {
  const email = `user${n++}.${Date.now()}@example.com`;
  const account = await server.accounts.create({
    email,
    password: PASSWORD,
    name: options.name ?? 'Ada Lovelace',
    emailVerified: options.verified ?? true,
  });
  return { email, account };
}

async function signIn(page: Page, email: string, password = PASSWORD) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Waits until the browser is back at the client and returns the callback's query. */
async function callbackParams(page: Page): Promise<URLSearchParams> {
  await page.waitForURL((url) => url.href.startsWith(server.redirectUri));
  return new URL(page.url()).searchParams;
}

describe('code flow through the real pages', () => {
  it('signs in, asks consent in words, returns a code, and remembers consent next time', async () => {
    const { email, account } = await newUser({ name: 'Ada Lovelace' });
    const context = await browser.newContext();
    const page = await context.newPage();
    const request = authorizationRequest(server);
    const loginResponse = await page.goto(request.url);
    expect(loginResponse?.status()).toBe(200);
    await expect(page.title()).resolves.toBe('Sign in · Gatehouse');
    expect(await page.locator('input[name="email"]').getAttribute('autocomplete')).toBe('username');
    expect(await page.locator('input[name="password"]').getAttribute('autocomplete')).toBe(
      'current-password',
    );
    expect(await page.getByText(PUBLIC_CLIENT_NAME).count()).toBe(1);

    await signIn(page, email);
    await page.waitForURL(/\/interaction\//);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      `Allow ${PUBLIC_CLIENT_NAME}?`,
    );
    const permissions = await page.locator('ul.scopes li').allTextContents();
    expect(permissions).toEqual(
      expect.arrayContaining(['See your email address and whether it is verified', 'See your name']),
    );
    await page.getByRole('button', { name: 'Allow' }).click();

    const params = await callbackParams(page);
    expect(params.get('state')).toBe(request.state);
    const code = params.get('code');
    expect(code).toBeTruthy();
    const tokens = await exchangeCode(server, code ?? '', request.verifier);
    expect(tokens.status).toBe(200);
    const idToken = jwtClaims(String(tokens.body.id_token));
    expect(idToken).toMatchObject({ sub: account.id, email, email_verified: true, name: 'Ada Lovelace' });
    expect(tokens.body.refresh_token).toEqual(expect.any(String));

    const userinfo = await fetch(`${server.issuer}/userinfo`, {
      headers: { authorization: `Bearer ${String(tokens.body.access_token)}` },
    });
    expect(await userinfo.json()).toMatchObject({ sub: account.id, email, email_verified: true });
    expect(await server.accounts.grantIds(account.id)).toHaveLength(1);

    // A second sign-in in a fresh browser: same client, same scopes, no consent page.
    const again = await (await browser.newContext()).newPage();
    const second = authorizationRequest(server);
    await again.goto(second.url);
    await signIn(again, email);
    const secondParams = await callbackParams(again);
    expect(secondParams.get('code')).toBeTruthy();
    expect(secondParams.get('state')).toBe(second.state);
    await again.context().close();
    await context.close();
  });

  it('asks only for what a client adds to what it was allowed before, and says so', async () => {
    const { email } = await newUser();
    const context = await browser.newContext();
    const page = await context.newPage();
    const consentFor = async (scope: string) => {
      const request = authorizationRequest(server, scope);
      await page.goto(request.url);
      if (await page.getByLabel('Password').count()) await signIn(page, email);
      await page.getByRole('button', { name: 'Allow' }).waitFor();
      const shown = {
        lead: await page.locator('p.lead').textContent(),
        permissions: await page.locator('ul.scopes li').allTextContents(),
      };
      await page.getByRole('button', { name: 'Allow' }).click();
      expect((await callbackParams(page)).get('code')).toBeTruthy();
      return shown;
    };
    expect(await consentFor('openid email')).toEqual({
      lead: `${PUBLIC_CLIENT_NAME} would like to:`,
      permissions: ['Know who you are when you sign in', 'See your email address and whether it is verified'],
    });
    expect(await consentFor('openid email profile')).toEqual({
      lead: `${PUBLIC_CLIENT_NAME} would also like to:`,
      permissions: ['See your name'],
    });
    await context.close();
  });

  it('completes response_mode=form_post: the auto-submit script and the cross-origin POST pass the CSP', async () => {
    const { email } = await newUser();
    const context = await browser.newContext();
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    const request = authorizationRequest(server);
    const callback = page.waitForRequest(
      (r) => r.url().startsWith(server.redirectUri) && r.method() === 'POST',
    );
    await page.goto(`${request.url}&response_mode=form_post`);
    await signIn(page, email);
    await page.getByRole('button', { name: 'Allow' }).click();
    const posted = new URLSearchParams((await callback).postData() ?? '');
    expect(posted.get('state')).toBe(request.state);
    expect((await exchangeCode(server, posted.get('code') ?? '', request.verifier)).status).toBe(200);
    expect(violations).toEqual([]);
    await context.close();
  });

  it('returns access_denied to the client after Deny', async () => {
    const { email } = await newUser();
    const context = await browser.newContext();
    const page = await context.newPage();
    const request = authorizationRequest(server);
    await page.goto(request.url);
    await signIn(page, email);
    await page.getByRole('button', { name: 'Deny' }).click();
    const params = await callbackParams(page);
    expect(params.get('error')).toBe('access_denied');
    expect(params.get('error_description')).toBe('End-User denied the request');
    expect(params.get('code')).toBeNull();
    await context.close();
  });

  it('says the same thing for a wrong password and an unknown email, announced as an alert', async () => {
    const { email } = await newUser();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(authorizationRequest(server).url);
    await signIn(page, email, 'not the right password');
    const wrongPassword = await page.getByRole('alert').textContent();
    await signIn(page, `nobody.${Date.now()}@example.com`, PASSWORD);
    const unknownEmail = await page.getByRole('alert').textContent();
    expect(wrongPassword).toBe('The email or password is incorrect.');
    expect(unknownEmail).toBe(wrongPassword);
    await context.close();
  });

  it('locks the account after 5 failures with 429 and Retry-After, even for the right password', async () => {
    const { email } = await newUser();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(authorizationRequest(server).url);
    const statuses: number[] = [];
    page.on('response', (response) => {
      if (response.request().method() === 'POST') statuses.push(response.status());
    });
    for (let i = 0; i < 5; i++) await signIn(page, email, `wrong password ${i}`);
    const locked = page.waitForResponse((r) => r.request().method() === 'POST');
    await signIn(page, email, PASSWORD);
    const response = await locked;
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(response.status()).toBe(429);
    expect(Number(response.headers()['retry-after'])).toBeGreaterThan(0);
    expect(await page.getByRole('alert').textContent()).toMatch(
      /^Too many failed sign-in attempts\. Try again in \d+ minutes?/,
    );
    await context.close();
  });

  it('refuses a disabled user, and their refresh token stops working at once', async () => {
    const { email } = await newUser();
    const context = await browser.newContext();
    const page = await context.newPage();
    const request = authorizationRequest(server);
    await page.goto(request.url);
    await signIn(page, email);
    await page.getByRole('button', { name: 'Allow' }).click();
    const tokens = await exchangeCode(
      server,
      (await callbackParams(page)).get('code') ?? '',
      request.verifier,
    );
    const refreshToken = String(tokens.body.refresh_token);
    const rotated = await refresh(server, refreshToken);
    expect(rotated.status).toBe(200);

    await server.accounts.setDisabled(email, true);
    const refused = await refresh(server, String(rotated.body.refresh_token));
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');

    const other = await (await browser.newContext()).newPage();
    await other.goto(authorizationRequest(server).url);
    await signIn(other, email);
    expect(await other.getByRole('alert').textContent()).toBe(
      'This account is disabled. Contact your administrator.',
    );
    await other.context().close();
    await context.close();
  });

  it('asks a browser whose account was disabled or revoked to sign in again', async () => {
    const { email } = await newUser();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(authorizationRequest(server).url);
    await signIn(page, email);
    await page.getByRole('button', { name: 'Allow' }).click();
    await callbackParams(page);

    await page.goto(authorizationRequest(server).url);
    await callbackParams(page);

    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 2_000 });
    await server.accounts.revokeSessions(email);
    vi.useRealTimers();
    const afterRevoke = await page.goto(authorizationRequest(server).url);
    expect(afterRevoke?.status()).toBe(200);
    await expect(page.title()).resolves.toBe('Sign in · Gatehouse');

    await server.accounts.setDisabled(email, true);
    await signIn(page, email);
    expect(await page.getByRole('alert').textContent()).toBe(
      'This account is disabled. Contact your administrator.',
    );
    await context.close();
  });

  it('ends every refresh token of the user on revoke', async () => {
    const { email, account } = await newUser();
    const refreshTokens: string[] = [];
    for (let i = 0; i < 2; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const request = authorizationRequest(server);
      await page.goto(request.url);
      await signIn(page, email);
      if (i === 0) await page.getByRole('button', { name: 'Allow' }).click();
      const tokens = await exchangeCode(
        server,
        (await callbackParams(page)).get('code') ?? '',
        request.verifier,
      );
      refreshTokens.push(String(tokens.body.refresh_token));
      await context.close();
    }
    expect(await server.accounts.grantIds(account.id)).toHaveLength(1);
    const revoked = await revokeAccountAccess(server.accounts, email, async (grantId) => {
      const { provider } = server;
      for (const model of [provider.AccessToken, provider.AuthorizationCode, provider.RefreshToken]) {
        await model.adapter.revokeByGrantId(grantId);
      }
      await provider.Grant.adapter.destroy(grantId);
    });
    expect(revoked.grantIds).toHaveLength(1);
    expect(await server.accounts.grantIds(account.id)).toEqual([]);
    for (const token of refreshTokens) {
      expect((await refresh(server, token)).body.error).toBe('invalid_grant');
    }
  });
});
