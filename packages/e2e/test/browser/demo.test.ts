// The demo page in real Chromium against the real server and demo API (one process, as
// `pnpm start` runs them) with 5-second access tokens: sign in through the server's pages, keep
// working across several expiries without seeing a sign-in page again, sign out, and check that
// the old refresh token is dead.
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, screenshot } from '@gatehouse/testkit/chromium';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CountingStack, startCountingStack } from './counting-stack.ts';
import { dpopProofFromPage, hasSdkDpopKey, keepDpopKey } from './dpop-in-page.ts';
import { sdkStorage } from './sdk-storage.ts';
import { signInThroughPages } from './sign-in.ts';

const ACCESS_TOKEN_TTL = 5;
// Refresh with UPDATE_README_SCREENSHOT=1 npx vitest run --project e2e test/browser/demo
const README_SCREENSHOT = fileURLToPath(new URL('../../../../docs/demo.png', import.meta.url));

describe('the demo page in Chromium', { timeout: 60_000 }, () => {
  let stack: CountingStack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Every URL the tab navigated to, to prove no sign-in page was seen after sign-in. */
  const navigations: string[] = [];

  beforeAll(async () => {
    stack = await startCountingStack({ accessTokenTTL: ACCESS_TOKEN_TTL });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    page = await context.newPage();
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations.push(frame.url());
    });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  const activity = (kind: string) => page.locator(`#activity-log li[data-kind="${kind}"]`);

  it('signs in with code + PKCE through the server pages', async () => {
    await page.goto(`${stack.apiUrl}/`);
    await expect.poll(() => page.locator('#whoami').textContent()).toBe('Not signed in');
    await screenshot(page, '1-signed-out');

    const { sawConsent } = await signInThroughPages(page, {
      issuer: stack.issuer,
      apiUrl: stack.apiUrl,
      user: stack.demoUser,
      onPage: async (name) => {
        await screenshot(page, name === 'login' ? '2-login' : '3-consent');
      },
    });
    expect(sawConsent).toBe(true); // a first sign-in at this client asks for consent
    expect(page.url()).toBe(`${stack.apiUrl}/`);
    await expect
      .poll(() => page.locator('#whoami').textContent())
      .toBe(`Signed in as ${stack.demoUser.email}`);
    expect(await page.locator('#session-email').textContent()).toBe(stack.demoUser.email);
    expect(await page.locator('#session-client').textContent()).toBe('demo-spa');
    expect(await page.locator('#session-scope').textContent()).toContain('recipes:write');
    await expect.poll(() => page.locator('#token-lifetime').textContent()).toMatch(/expires in \d+ s/);
    expect(await activity('info').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('Signed in')]),
    );
  });

  it('keeps working across several access-token expiries without a sign-in page', async () => {
    const signedInAt = navigations.length;
    const refreshesBefore = stack.refreshes.length;
    const started = Date.now();
    const names: string[] = [];
    // Three and a half lifetimes of the access token, doing what a user does meanwhile.
    for (let round = 1; Date.now() - started < (ACCESS_TOKEN_TTL * 3 + 2) * 1000; round++) {
      const name = `Pancakes no. ${round}`;
      names.push(name);
      await page.locator('#recipe-name').fill(name);
      await page.locator('#recipe-description').fill('Fluffy, for a slow Sunday.');
      await page.locator('#recipe-cook-time').fill('20');
      await page.locator('#recipe-ingredients').fill('flour\nmilk\neggs');
      await page.getByRole('button', { name: 'Create recipe' }).click();
      const mine = page.locator('#my-recipes li', { hasText: name });
      await mine.waitFor();
      await mine.getByRole('button', { name: `Publish ${name}` }).click();
      await mine.locator('.badge.published').waitFor();
      await page.locator('#public-recipes li', { hasText: name }).first().waitFor();
      await page.waitForTimeout(1500);
    }
    expect(await page.locator('#error').isHidden()).toBe(true);
    // Never sent back to the server: every navigation since sign-in stayed on the demo page.
    expect(navigations.slice(signedInAt).filter((url) => url.startsWith(stack.issuer))).toEqual([]);
    // At least one silent renewal per expiry, each one visible in the activity log.
    const renewals = stack.refreshes.slice(refreshesBefore);
    expect(renewals.every((r) => r.ok)).toBe(true);
    expect(renewals.length).toBeGreaterThanOrEqual(3);
    // Short-lived tokens are used, not renewed on every call: a token counts as expired only in the
    // last quarter of its life (not within a fixed 10 s), and the proactive renewal comes after at
    // least half of it, so there is at most about one renewal per half lifetime.
    const elapsed = Date.now() - started;
    console.log(
      `${renewals.length} silent renewals in ${(elapsed / 1000).toFixed(1)} s of work with ${ACCESS_TOKEN_TTL}-second access tokens`,
    );
    expect(renewals.length).toBeLessThanOrEqual(Math.ceil(elapsed / ((ACCESS_TOKEN_TTL * 1000) / 2)) + 1);
    expect(await activity('refresh').count()).toBeGreaterThanOrEqual(3);
    expect(await activity('error').count()).toBe(0);
    expect(await page.locator('#my-recipes li').count()).toBe(names.length);
  });

  it('edits a recipe, searches and pages through the public list', async () => {
    const first = page
      .locator('#my-recipes li')
      .filter({ has: page.locator('.recipe-name', { hasText: /^Pancakes no\. 1$/ }) });
    await first.getByRole('button', { name: /^Edit / }).click();
    await expect.poll(() => page.locator('#recipe-form-title').textContent()).toContain('Edit');
    await page.locator('#recipe-name').fill('Buttermilk pancakes');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#my-recipes li', { hasText: 'Buttermilk pancakes' }).waitFor();

    await page.locator('#search-q').fill('buttermilk');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect
      .poll(() => page.locator('#public-recipes li').allTextContents())
      .toEqual([expect.stringContaining('Buttermilk pancakes')]);

    await page.locator('#search-q').fill('');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const total = await page.locator('#my-recipes li').count();
    await expect
      .poll(() => page.locator('#page-status').textContent())
      .toBe(`Page 1 of ${Math.ceil(total / 5)} · ${total} recipes`);
    if (total > 5) {
      await page.getByRole('button', { name: 'Next' }).click();
      await expect.poll(() => page.locator('#page-status').textContent()).toMatch(/^Page 2 of /);
      await page.getByRole('button', { name: 'Previous' }).click();
    }
    await expect.poll(() => page.locator('#page-status').textContent()).toMatch(/^Page 1 of /);
    await screenshot(page, '4-signed-in');
    // The README shows the first screen only: session, activity log with renewals, recipes.
    await page.evaluate(() => window.scrollTo(0, 0));
    const readme = await screenshot(page, 'readme', { fullPage: false });
    // The committed copy changes only on request, so a test run leaves the working tree clean.
    if (process.env.UPDATE_README_SCREENSHOT === '1') {
      await mkdir(dirname(README_SCREENSHOT), { recursive: true });
      await copyFile(readme, README_SCREENSHOT);
    }
  });

  it('signs out: the refresh token is revoked and the browser comes back signed out', async () => {
    // hybridStorage() keeps the refresh token in IndexedDB (consistent between tabs), none in localStorage.
    const stored = await sdkStorage(page);
    expect(stored.localStorage).toEqual({});
    const session = Object.entries(stored.indexedDb).find(([key]) => key.endsWith(':session'))?.[1];
    const refreshToken = (JSON.parse(session ?? '{}') as { refreshToken?: string }).refreshToken;
    expect(refreshToken).toBeTruthy();
    // The token is bound to the tab's DPoP key; keep a copy, since sign-out deletes the SDK's.
    await keepDpopKey(page);

    // RP-initiated logout: the SDK revokes, then sends the browser to the server's end-session
    // endpoint, which may ask to confirm before it redirects back.
    const leftPage = page.waitForEvent('framenavigated', {
      predicate: (frame) => frame === page.mainFrame(),
    });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await leftPage;
    await page.waitForLoadState('load');
    if (page.url().startsWith(stack.issuer)) {
      await screenshot(page, '5-logout-confirm');
      await page
        .getByRole('button', { name: /sign (me )?out|yes/i })
        .first()
        .click();
    }
    await page.waitForURL(`${stack.apiUrl}/`);
    await expect.poll(() => page.locator('#whoami').textContent()).toBe('Not signed in');
    await screenshot(page, '6-signed-out-again');
    expect(await sdkStorage(page)).toEqual({ indexedDb: {}, localStorage: {} });
    // The next sign-in binds its tokens to a new key.
    expect(await hasSdkDpopKey(page)).toBe(false);

    // demo-spa is DPoP-bound: only a proof of the key the token is bound to (the copy kept above) could use
    // it, so the refusal below is the revocation, not a missing or foreign proof.
    const tokenUrl = `${stack.issuer}/token`;
    const response = await fetch(tokenUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        dpop: await dpopProofFromPage(page, { method: 'POST', url: tokenUrl }, 'kept'),
      },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken ?? '',
        client_id: 'demo-spa',
      }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error?: string }).error).toBe('invalid_grant');
  });
});
