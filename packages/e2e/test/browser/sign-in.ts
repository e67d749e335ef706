import type { Page } from 'playwright-core';

/**
 * From the demo page, clicks "Sign in" and plays the user's part at the server: the login form
 * (`email`, `password`), then the consent page's "Allow" when it is asked, until the browser is
 * back on the demo page, signed in. `onPage` runs on each server page before it is submitted
 * (screenshots). Resolves whether consent was asked.
 *
 * @example
 * await signInThroughPages(page, { issuer, apiUrl, user: stack.demoUser });
 */
export async function signInThroughPages(
  page: Page,
  options: {
    issuer: string;
    apiUrl: string;
    user: { email: string; password: string };
    onPage?: (name: 'login' | 'consent') => Promise<void>;
  },
): Promise<{ sawConsent: boolean }> {
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((url) => url.href.startsWith(`${options.issuer}/interaction/`));
  await page.locator('input[name="email"]').waitFor();
  await options.onPage?.('login');
  await page.locator('input[name="email"]').fill(options.user.email);
  await page.locator('input[name="password"]').fill(options.user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  // Consent is asked once per client; a remembered grant goes straight back to the page.
  const allow = page.getByRole('button', { name: 'Allow', exact: true });
  await Promise.race([
    allow.waitFor().catch(() => undefined),
    page.waitForURL((url) => url.href.startsWith(options.apiUrl)).catch(() => undefined),
  ]);
  const sawConsent = await allow.isVisible();
  if (sawConsent) {
    await options.onPage?.('consent');
    await allow.click();
  }
  await page.waitForURL(`${options.apiUrl}/`);
  await page.locator('#session-sub').filter({ hasNotText: '…' }).waitFor();
  return { sawConsent };
}
