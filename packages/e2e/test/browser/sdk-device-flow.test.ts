import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGatehouseClient, fileStorage } from '@gatehouse/client/node';
import { launchChromium } from '@gatehouse/testkit/chromium';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { decodeJwt } from 'jose';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const EMAIL = 'device-owner@example.test';
const PASSWORD = 'device-owner-password-123';

// The device flow as a CLI or TV app meets it: the SDK polls from Node while the user approves in
// real Chromium through the real pages of the real server (RFC 8628 §3.3–3.5).
describe('SDK device flow approved in Chromium', () => {
  let browser: Browser;
  const gh = suiteGatehouse();
  beforeAll(async () => {
    await gh.server.accounts.create({ email: EMAIL, password: PASSWORD, emailVerified: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('signs the CLI in once the user entered the code, signed in and allowed it', async () => {
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'gatehouse-cli-')), 'tokens.json');
    const cli = createGatehouseClient({
      issuer: gh.issuer,
      clientId: 'cli',
      scope: 'openid offline_access recipes:read',
      storage: fileStorage(tokenFile),
    });
    const approvals: Promise<void>[] = [];
    const tokens = await cli.signInWithDeviceCode({
      onUserCode: ({ verificationUri, userCode }) => {
        // The person, on another device: opens the URL, types the code, signs in, allows.
        approvals.push(
          (async () => {
            const page = await browser.newPage();
            await page.goto(verificationUri);
            await page.getByLabel('Code shown on your device').fill(userCode);
            await page.getByRole('button', { name: 'Continue' }).click();
            await page.getByRole('button', { name: 'Continue' }).click();
            await page.getByLabel('Email').fill(EMAIL);
            await page.getByLabel('Password').fill(PASSWORD);
            await page.getByRole('button', { name: 'Sign in' }).click();
            await page.getByRole('button', { name: 'Allow' }).click();
            await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
              'Your device is connected',
            );
            await page.close();
          })(),
        );
      },
    });
    await Promise.all(approvals);
    const account = await gh.server.accounts.findByEmail(EMAIL);
    expect(decodeJwt(tokens.accessToken)).toMatchObject({ sub: account?.id, client_id: 'cli' });
    expect(tokens.refreshToken).toBeTypeOf('string');
    // The CLI's tokens are kept in a file only its user can read.
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    cli.close();
  });
});
