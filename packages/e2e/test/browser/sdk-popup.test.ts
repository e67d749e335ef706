// Popup sign-in and the silent session check of `@gatehouse/client/popup`, in Chromium with its popup blocker
// on, against the real server on a real Redis: the app page never navigates away, a popup opened outside a
// click or closed by the user is a typed error, and `prompt=none` in a hidden frame tells a signed-out app
// whether the user still has a session at Gatehouse (or, where the frame gets no cookie, `login_required`).

import type { StartedGatehouse } from '@gatehouse/testkit/server';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Outcome, type SdkApp, type SdkAppGlobals, signInInPopup } from './sdk-app.ts';
import { type SdkRig, startSdkRig } from './sdk-rig.ts';

const CLIENT_ID = 'popup-spa';
const USER = 'popup-user';

let gh: StartedGatehouse;
let app: SdkApp;
let browser: Browser;
let rig: SdkRig | undefined;

beforeAll(async () => {
  // crossSite: the silent check is also tried from the app's other site, where the frame gets no cookie.
  rig = await startSdkRig({
    clientId: CLIENT_ID,
    user: USER,
    scope: 'openid profile email',
    crossSite: true,
    popupBlocking: true,
  });
  ({ gh, app, browser } = rig);
}, 60_000);
afterAll(() => rig?.stop());

/** `window.app` of the page, inside `page.evaluate`. */
type WithApp = typeof globalThis & { app: SdkAppGlobals };

async function openApp(context: BrowserContext, origin = app.origin, hash = ''): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${origin}/${hash}`);
  await page.waitForFunction(() => !!(globalThis as WithApp).app);
  return page;
}

describe('@gatehouse/client/popup in Chromium', { timeout: 60_000 }, () => {
  // One browser profile for the first three tests: the Gatehouse session of the popup sign-in lives on.
  let context: BrowserContext;
  beforeAll(async () => {
    context = await browser.newContext();
  });
  afterAll(() => context?.close());

  it('signInPopup() from a click: the user signs in in the popup, the page gets the validated user without navigating', async () => {
    const page = await openApp(context);
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.locator('#popup').click()]);
    await popup.waitForURL((url) => url.href.startsWith(`${gh.issuer}/interaction/`));
    await signInInPopup(popup, USER);

    const outcome = await page.evaluate(() => (globalThis as WithApp).app.popup);
    expect(outcome).toEqual({ ok: true });
    expect(page.url()).toBe(`${app.origin}/`);
    const seen = await page.evaluate(async () => {
      const { auth } = (globalThis as WithApp).app;
      return {
        user: await auth.getUser(),
        status: auth.getSnapshot().status,
        token: !!(await auth.getAccessToken()),
      };
    });
    expect(seen.status).toBe('signedIn');
    expect(seen.token).toBe(true);
    expect(seen.user).toMatchObject({ email: `${USER}@example.test`, iss: gh.issuer, aud: CLIENT_ID });
  });

  it('signInSilent() in a new tab that holds no tokens finds the session at Gatehouse, in a hidden frame', async () => {
    const page = await openApp(context);
    const seen = await page.evaluate(async () => {
      const { sdk, options } = (globalThis as WithApp).app;
      // Another client of the same app, with its own empty storage: an app that believes it is signed out.
      const fresh = sdk.createGatehouseClient({ ...options, storage: sdk.memoryStorage(), crossTab: false });
      await fresh.ready;
      const before = await fresh.isAuthenticated();
      const entries = history.length;
      await sdk.signInSilent(fresh);
      return {
        // The frame's navigations add nothing to the tab's history: Back still leaves the app as before.
        historyGrew: history.length !== entries,
        before,
        after: await fresh.isAuthenticated(),
        user: await fresh.getUser(),
        frames: document.querySelectorAll('iframe').length,
      };
    });
    expect(seen).toMatchObject({
      historyGrew: false,
      before: false,
      after: true,
      frames: 0,
      user: { email: `${USER}@example.test` },
    });
    expect(page.url()).toBe(`${app.origin}/`);
  });

  it('signInSilent() where the frame gets no Gatehouse cookie (the app on another site): InteractionRequiredError login_required', async () => {
    // Same browser, same Gatehouse session; the app is served from 127.0.0.1, another site than localhost, so
    // the SameSite=Lax session cookie stays out of the frame, as third-party cookie blocking keeps it out.
    const page = await openApp(context, app.crossSiteOrigin);
    const outcome = await page.evaluate(() => {
      const { sdk, auth, outcome } = (globalThis as WithApp).app;
      return outcome(sdk.signInSilent(auth));
    });
    expect(outcome).toMatchObject({
      ok: false,
      name: 'InteractionRequiredError',
      code: 'ERR_INTERACTION_REQUIRED',
      error: 'login_required',
    });
  });

  it('signInSilent() in a browser without a Gatehouse session: InteractionRequiredError login_required', async () => {
    const signedOut = await browser.newContext();
    try {
      const page = await openApp(signedOut);
      const outcome = await page.evaluate(() => {
        const { sdk, auth, outcome } = (globalThis as WithApp).app;
        return outcome(sdk.signInSilent(auth));
      });
      expect(outcome).toMatchObject({ ok: false, name: 'InteractionRequiredError', error: 'login_required' });
      expect(await page.evaluate(() => (globalThis as WithApp).app.auth.getSnapshot().status)).toBe(
        'signedOut',
      );
    } finally {
      await signedOut.close();
    }
  });

  it('signInPopup() outside a click: the browser blocks the popup and the app gets ERR_POPUP_BLOCKED', async () => {
    const fresh = await browser.newContext();
    try {
      const popups: Page[] = [];
      fresh.on('page', (p) => popups.push(p));
      const page = await openApp(fresh, app.origin, '#popup-on-load');
      const outcome = (await page.evaluate(() => (globalThis as WithApp).app.popup)) as Outcome;
      expect(outcome).toMatchObject({ ok: false, name: 'GatehouseError', code: 'ERR_POPUP_BLOCKED' });
      expect(popups).toEqual([page]);
    } finally {
      await fresh.close();
    }
  });

  it('the user closes the popup: ERR_POPUP_CLOSED, and the app is still signed out', async () => {
    const fresh = await browser.newContext();
    try {
      const page = await openApp(fresh);
      const [popup] = await Promise.all([page.waitForEvent('popup'), page.locator('#popup').click()]);
      await popup.locator('input[name="email"]').waitFor();
      await popup.close();
      const outcome = (await page.evaluate(() => (globalThis as WithApp).app.popup)) as Outcome;
      expect(outcome).toMatchObject({ ok: false, name: 'GatehouseError', code: 'ERR_POPUP_CLOSED' });
      expect(await page.evaluate(() => (globalThis as WithApp).app.auth.getSnapshot().status)).toBe(
        'signedOut',
      );
    } finally {
      await fresh.close();
    }
  });
});
