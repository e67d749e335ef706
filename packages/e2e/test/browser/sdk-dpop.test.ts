// `dpop: true` in real Chromium tabs against the real server (DPoP nonces required) on a real Redis: the key is
// a non-extractable CryptoKeyPair in IndexedDB, one per origin even when two tabs create it at once; a refresh
// token copied out of the browser's storage is worthless in Node without that key; the tabs keep renewing,
// once for both of them.

import type { StartedGatehouse } from '@gatehouse/testkit/server';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, type JWK } from 'jose';
import * as oauth from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SdkApp, type SdkAppGlobals, signInInPopup } from './sdk-app.ts';
import { type RefreshOutcome, type SdkRig, startSdkRig } from './sdk-rig.ts';
import { sdkStorage } from './sdk-storage.ts';

const CLIENT_ID = 'dpop-tabs-spa';
const USER = 'dpop-tabs-user';
// Short enough that the tabs renew on their own within the test: proofs carry the page's real time (`iat`),
// so the pages' clocks cannot be moved ahead as other browser tests do.
const ACCESS_TOKEN_TTL = 12;

let gh: StartedGatehouse;
let app: SdkApp;
let browser: Browser;
let refreshes: RefreshOutcome[];
let rig: SdkRig | undefined;

beforeAll(async () => {
  rig = await startSdkRig({
    clientId: CLIENT_ID,
    user: USER,
    scope: 'openid profile email offline_access recipes:read',
    resource: 'http://localhost:4001', // the demo API's audience: JWT access tokens, whose cnf.jkt we read
    env: { ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL), DPOP_REQUIRE_NONCE: '1' },
    dpop: true,
  });
  ({ gh, app, browser, refreshes } = rig);
}, 60_000);
afterAll(() => rig?.stop());

type WithApp = typeof globalThis & { app: SdkAppGlobals };

async function signedInTab(page: Page): Promise<void> {
  await page.goto(`${app.origin}/`);
  await page.waitForFunction(() => (globalThis as WithApp).app?.statusAtReady !== undefined);
  const [popup] = await Promise.all([page.waitForEvent('popup'), page.locator('#popup').click()]);
  await signInInPopup(popup, USER);
  expect(await page.evaluate(() => (globalThis as WithApp).app.popup)).toEqual({ ok: true });
}

const accessToken = (page: Page) =>
  page.evaluate(async () => (await (globalThis as WithApp).app.auth.getTokens())?.accessToken);

/** The DPoP keys in the origin's IndexedDB: name, curve, and whether the private key can be exported. */
const storedKeys = (page: Page) =>
  page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('gatehouse-dpop');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    try {
      const store = db.transaction('keys', 'readonly').objectStore('keys');
      const read = <T>(request: IDBRequest<T>) =>
        new Promise<T>((resolve, reject) => {
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
      const [names, pairs] = await Promise.all([read(store.getAllKeys()), read(store.getAll())]);
      return Promise.all(
        (pairs as CryptoKeyPair[]).map(async (pair, i) => ({
          name: String(names[i]),
          curve: (pair.privateKey.algorithm as EcKeyAlgorithm).namedCurve,
          extractable: pair.privateKey.extractable,
          exported: await crypto.subtle.exportKey('jwk', pair.privateKey).then(
            () => true,
            () => false,
          ),
          publicJwk: await crypto.subtle.exportKey('jwk', pair.publicKey),
        })),
      );
    } finally {
      db.close();
    }
  });

/** Waits (real time) until `page` holds an access token other than `previous`. */
async function renewed(page: Page, previous: string | undefined): Promise<string> {
  for (let waited = 0; waited < 20_000; waited += 250) {
    const current = await accessToken(page);
    if (current && current !== previous) return current;
    await page.waitForTimeout(250);
  }
  throw new Error('the tab did not renew its access token');
}

describe('@gatehouse/client with dpop: true in Chromium', { timeout: 90_000 }, () => {
  it('keeps a non-extractable key in IndexedDB; a copied refresh token fails in Node without it; the tab renews', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await signedInTab(page);
      const [key, ...others] = await storedKeys(page);
      expect(others).toEqual([]);
      expect(key).toMatchObject({ curve: 'P-256', extractable: false, exported: false });
      const first = await accessToken(page);
      expect(decodeJwt(first!).cnf).toEqual({
        jkt: await calculateJwkThumbprint(key!.publicJwk as JWK),
      });

      // The refresh token as an attacker with access to the origin's storage would copy it.
      const session = Object.entries((await sdkStorage(page)).indexedDb).find(([name]) =>
        name.endsWith(':session'),
      )?.[1];
      const refreshToken = String(JSON.parse(session ?? '{}').refreshToken);
      const refreshesBefore = refreshes.length;
      const bare = await fetch(`${gh.issuer}/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
          client_id: CLIENT_ID,
        }),
      });
      expect(await bare.json()).toMatchObject({ error: 'invalid_grant' });
      const config = await oauth.discovery(new URL(gh.issuer), CLIENT_ID, undefined, oauth.None(), {
        execute: [oauth.allowInsecureRequests],
      });
      const thief = oauth.getDPoPHandle(config, await oauth.randomDPoPKeyPair('ES256'));
      await expect(
        oauth.refreshTokenGrant(config, refreshToken, undefined, { DPoP: thief }),
      ).rejects.toMatchObject({ error: 'invalid_grant' });

      // The rightful tab renews on its own before the token runs out, with its key: accepted.
      const next = await renewed(page, first);
      expect(decodeJwt(next).cnf).toEqual(decodeJwt(first!).cnf);
      // The two copies: refused (openid-client first learnt the server's nonce); then the tab's renewal.
      expect(refreshes.slice(refreshesBefore)).toEqual([
        { ok: false, error: 'invalid_grant' },
        { ok: false, error: 'use_dpop_nonce' },
        { ok: false, error: 'invalid_grant' },
        { ok: true },
      ]);
      expect(await page.evaluate(() => (globalThis as WithApp).app.events)).toEqual(['userChanged']);
    } finally {
      await context.close();
    }
  });

  it('two tabs creating the key at the same moment end with one key, which both tabs sign with', async () => {
    const context = await browser.newContext();
    try {
      const tabs = [await context.newPage(), await context.newPage()];
      await Promise.all(tabs.map((tab) => tab.goto(`${app.origin}/`)));
      await Promise.all(
        tabs.map((tab) =>
          tab.waitForFunction(() => (globalThis as WithApp).app?.statusAtReady !== undefined),
        ),
      );
      // A request with a token of the caller's own gets a proof: the first one creates the key.
      const proofs = await Promise.all(
        tabs.map(async (tab) => {
          const request = tab.waitForRequest((r) => r.url().endsWith('/probe'));
          await tab.evaluate(() =>
            (globalThis as WithApp).app.auth.http
              .get(`${location.origin}/probe`, {
                headers: { authorization: 'Bearer probe' },
                throwHttpErrors: false,
              })
              .then(() => undefined),
          );
          return (await request).headers().dpop;
        }),
      );
      const keys = await storedKeys(tabs[0]!);
      expect(keys).toHaveLength(1);
      const thumbprints = await Promise.all(
        proofs.map((proof) => calculateJwkThumbprint(decodeProtectedHeader(String(proof)).jwk as JWK)),
      );
      const stored = await calculateJwkThumbprint(keys[0]!.publicJwk as JWK);
      expect(thumbprints).toEqual([stored, stored]);
    } finally {
      await context.close();
    }
  });

  it('two signed-in tabs share one renewal: one refresh request, the same bound token in both', async () => {
    const context = await browser.newContext();
    try {
      const first = await context.newPage();
      await signedInTab(first);
      const second = await context.newPage();
      await second.goto(`${app.origin}/`);
      await second.waitForFunction(() => (globalThis as WithApp).app?.statusAtReady === 'signedIn');
      const before = await accessToken(first);
      expect(await accessToken(second)).toBe(before);
      const refreshesBefore = refreshes.length;

      // Both tabs' renewal timers come due around the same time; Web Locks and BroadcastChannel make one.
      const next = await renewed(first, before);
      expect(await renewed(second, before)).toBe(next);
      await first.waitForTimeout(500); // room for a second, unwanted renewal
      // One renewal. Nonces are remembered per tab: when the tab that renews is the one that has not spoken to
      // the server yet, its proof first meets use_dpop_nonce, and it retries exactly once.
      expect([[{ ok: true }], [{ ok: false, error: 'use_dpop_nonce' }, { ok: true }]]).toContainEqual(
        refreshes.slice(refreshesBefore),
      );
    } finally {
      await context.close();
    }
  });

  it('sign-out deletes the key from IndexedDB; the next sign-in binds its tokens to a new key', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await signedInTab(page);
      const [before] = await storedKeys(page);
      const jkt = async () => decodeJwt((await accessToken(page))!).cnf;
      expect(await jkt()).toEqual({ jkt: await calculateJwkThumbprint(before!.publicJwk as JWK) });

      const { revoked } = await page.evaluate(() =>
        (globalThis as WithApp).app.auth.signOut({ endSession: false }),
      );
      expect(revoked).toBe(true);
      expect(await storedKeys(page)).toEqual([]);

      // Still signed in at Gatehouse (endSession: false): the popup needs at most the consent again.
      const [popup] = await Promise.all([page.waitForEvent('popup'), page.locator('#popup').click()]);
      const closed = popup.waitForEvent('close');
      const allow = popup.getByRole('button', { name: 'Allow', exact: true });
      await Promise.race([allow.click().catch(() => undefined), closed]);
      await closed;
      await renewed(page, undefined); // the opener has exchanged the code
      const [after, ...others] = await storedKeys(page);
      expect(others).toEqual([]);
      const thumbprint = await calculateJwkThumbprint(after!.publicJwk as JWK);
      expect(thumbprint).not.toBe(await calculateJwkThumbprint(before!.publicJwk as JWK));
      expect(await jkt()).toEqual({ jkt: thumbprint });
    } finally {
      await context.close();
    }
  });
});
