// What a frontend team relies on from `@gatehouse/client`, in real Chromium tabs against the real server on a
// real Redis: a reload keeps the signed-in user (hybridStorage: the refresh token in IndexedDB, the access
// token in memory), `ready` settles once and only when the snapshot already says who is signed in, and when
// the server ends the session exactly one of two tabs is told to send the user to sign in.

import { postForm } from '@gatehouse/testkit/forms';
import type { StartedGatehouse } from '@gatehouse/testkit/server';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SdkApp, type SdkAppGlobals, signInInPopup } from './sdk-app.ts';
import { type RefreshOutcome, type SdkRig, startSdkRig } from './sdk-rig.ts';

const CLIENT_ID = 'tabs-spa';
const USER = 'tabs-user';
// Long enough that nothing expires on its own; the tabs' clocks are moved instead.
const ACCESS_TOKEN_TTL = 600;

let gh: StartedGatehouse;
let app: SdkApp;
let browser: Browser;
let refreshes: RefreshOutcome[];
let rig: SdkRig | undefined;

beforeAll(async () => {
  rig = await startSdkRig({
    clientId: CLIENT_ID,
    user: USER,
    scope: 'openid profile email offline_access',
    env: { ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL) },
  });
  ({ gh, app, browser, refreshes } = rig);
}, 60_000);
afterAll(() => rig?.stop());

/** `window.app` of the page, inside `page.evaluate`. */
type WithApp = typeof globalThis & { app: SdkAppGlobals };

const settled = (page: Page) =>
  page.waitForFunction(() => (globalThis as WithApp).app?.statusAtReady !== undefined);

/** The page's app state a user would notice: who is signed in, the snapshot's history, the events. */
const appState = (page: Page) =>
  page.evaluate(async () => {
    const { auth, statuses, events, readyCount, statusAtReady } = (globalThis as WithApp).app;
    return { email: (await auth.getUser())?.email, statuses, events, readyCount, statusAtReady };
  });

/** The page's snapshot status now. */
const statusOf = (page: Page) => page.evaluate(() => (globalThis as WithApp).app.auth.getSnapshot().status);

/** The refresh token the page's client holds now. */
const refreshTokenOf = (page: Page) =>
  page.evaluate(async () => (await (globalThis as WithApp).app.auth.getTokens())?.refreshToken);

/** `signOut({ endSession: false })` in the page: whether it revoked, and the error's code and message. */
const signOutIn = (page: Page) =>
  page.evaluate(async () => {
    const { revoked, revocationError } = await (globalThis as WithApp).app.auth.signOut({
      endSession: false,
    });
    return { revoked, code: revocationError?.code, message: revocationError?.message };
  });

/** A second tab of the same browser profile, once its client has read the session. */
async function secondTab(context: BrowserContext, email: string): Promise<Page> {
  const second = await context.newPage();
  await second.goto(`${app.origin}/`);
  await settled(second);
  expect((await appState(second)).email).toBe(email);
  return second;
}

/** The paths of the scripts the page loads from now on (the SDK's entry and its chunks), kept up to date. */
function scriptsLoadedBy(page: Page): string[] {
  const scripts: string[] = [];
  page.on('request', (request) => {
    if (request.resourceType() === 'script') scripts.push(new URL(request.url()).pathname);
  });
  return scripts;
}

async function signedInTab(page: Page): Promise<void> {
  await page.goto(`${app.origin}/`);
  await settled(page);
  const [popup] = await Promise.all([page.waitForEvent('popup'), page.locator('#popup').click()]);
  await signInInPopup(popup, USER);
  expect(await page.evaluate(() => (globalThis as WithApp).app.popup)).toEqual({ ok: true });
}

describe('@gatehouse/client in real Chromium tabs', { timeout: 60_000 }, () => {
  it('a reload keeps the user (hybridStorage), and `ready` settles once, already signed in: no signed-out flash', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const scripts = scriptsLoadedBy(page);
      await signedInTab(page);
      const before = await appState(page);
      expect(before.email).toBe(`${USER}@example.test`);
      // Signing in loaded the redirect sign-in chunk (PKCE, the callback's checks, the ID token's signature).
      expect(scripts.filter((path) => path.startsWith('/redirect-sign-in-'))).toHaveLength(1);

      const refreshesBefore = refreshes.length;
      scripts.length = 0;
      await page.reload();
      await settled(page);
      // Room for a second, unwanted settling of `ready` or a late status change.
      await page.waitForTimeout(500);
      const after = await appState(page);
      expect(after).toMatchObject({
        email: `${USER}@example.test`,
        readyCount: 1,
        statusAtReady: 'signedIn',
      });
      // 'loading' (the user may appear in it as storage is read) until 'signedIn', and never 'signedOut'.
      expect(after.statuses[0]).toBe('loading');
      expect(after.statuses.filter((status) => status !== 'loading')).toEqual(['signedIn']);
      // The access token lived only in the page's memory: one refresh brought it back, and it works.
      expect(
        await page.evaluate(async () => (await (globalThis as WithApp).app.auth.getAccessToken()).length > 0),
      ).toBe(true);
      expect(refreshes.slice(refreshesBefore)).toEqual([{ ok: true }]);
      // A page that only uses the session, renewal included, never downloads the sign-in chunk.
      expect(scripts).toContain('/sdk.js');
      expect(scripts.filter((path) => path.startsWith('/redirect-sign-in-'))).toEqual([]);
      // Nor the sign-out chunk, which only signOut() loads.
      expect(scripts.filter((path) => path.startsWith('/sign-out-'))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('the server revokes the session: both tabs learn it, exactly one gets signInRequired, the other sessionExpired only', async () => {
    const context = await browser.newContext();
    try {
      await context.clock.install();
      const first = await context.newPage();
      await signedInTab(first);
      const second = await secondTab(context, `${USER}@example.test`);

      // RFC 7009: revoking the refresh token ends the grant at the server; the tabs do not know yet.
      const refreshToken = await refreshTokenOf(first);
      const revoked = await postForm(`${gh.issuer}/revoke`, {
        token: String(refreshToken),
        token_type_hint: 'refresh_token',
        client_id: CLIENT_ID,
      });
      expect(revoked.status).toBe(200);

      // Both tabs' access token comes due in the same instant; each tab's renewal meets the revoked grant.
      const refusedBefore = refreshes.filter((r) => !r.ok).length;
      await context.clock.fastForward(ACCESS_TOKEN_TTL * 1000);
      const expired = async (page: Page) => (await statusOf(page)) === 'expired';
      for (
        let waited = 0;
        !((await expired(first)) && (await expired(second))) && waited < 10_000;
        waited += 100
      ) {
        await first.waitForTimeout(100);
      }
      await first.waitForTimeout(500); // room for a second, unwanted prompt
      const events = [(await appState(first)).events, (await appState(second)).events];
      const asked = events.map((list) => list.filter((e) => e === 'signInRequired').length);
      expect(asked.sort()).toEqual([0, 1]);
      for (const list of events) {
        expect(list.filter((e) => e === 'sessionExpired')).toEqual(['sessionExpired']);
      }
      // One refresh request reached the server and was refused; the other tab never spent the token.
      expect(refreshes.filter((r) => !r.ok).slice(refusedBefore)).toEqual([
        { ok: false, error: 'invalid_grant' },
      ]);
    } finally {
      await context.close();
    }
  });

  it('signOut() when its chunk does not load: the session still ends here and in the other tab, the result says nothing was revoked; the next signOut() loads it and revokes', async () => {
    const context = await browser.newContext();
    try {
      const first = await context.newPage();
      await signedInTab(first);
      const second = await secondTab(context, `${USER}@example.test`);
      const refreshToken = await refreshTokenOf(first);

      // The app's server is gone for that one file (a deploy in progress, offline): the chunk fails to load.
      await context.route(/\/sign-out-[^/]*\.js$/, (route) => route.abort('internetdisconnected'));
      const offline = await signOutIn(first);
      expect(offline).toEqual({
        revoked: false,
        code: 'ERR_NETWORK',
        message: 'the sign-out code did not load',
      });
      await second.waitForFunction(
        () => (globalThis as WithApp).app.auth.getSnapshot().status === 'signedOut',
      );
      expect([await statusOf(first), await statusOf(second)]).toEqual(['signedOut', 'signedOut']);
      // Nothing reached the server: the refresh token still works (which is what `revoked: false` says).
      const stillValid = await postForm(`${gh.issuer}/token`, {
        grant_type: 'refresh_token',
        refresh_token: String(refreshToken),
        client_id: CLIENT_ID,
      });
      expect(stillValid.status).toBe(200);
    } finally {
      await context.close();
    }
    // Back online, in a new browser profile (the server still has the first sign-in's session, since the sign-out
    // above never reached it): signOut() loads the chunk, once, and revokes at the server.
    const online = await browser.newContext();
    try {
      const first = await online.newPage();
      const scripts = scriptsLoadedBy(first);
      await signedInTab(first);
      const secondRefreshToken = await refreshTokenOf(first);
      const result = await signOutIn(first);
      expect(result).toEqual({ revoked: true, code: undefined, message: undefined });
      expect(scripts.filter((path) => path.startsWith('/sign-out-'))).toHaveLength(1);
      const refused = await postForm(`${gh.issuer}/token`, {
        grant_type: 'refresh_token',
        refresh_token: String(secondRefreshToken),
        client_id: CLIENT_ID,
      });
      expect(refused.status).toBe(400);
      expect(await statusOf(first)).toBe('signedOut');
    } finally {
      await online.close();
    }
  });
});
