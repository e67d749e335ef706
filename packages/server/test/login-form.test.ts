import { API, TEST_CLIENTS } from '@gatehouse/testkit/clients';
import { CookieJar, getWithCookies } from '@gatehouse/testkit/forms';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { pkce } from '@gatehouse/testkit/sign-in';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_APP_URL, demoClients } from '../src/dev/demo-clients.ts';

// The sign-in pages in the real server (their browser behaviour is tested in Chromium under
// test/interactions); here: the wiring of accounts, CSRF and security events into the server.
describe('the sign-in form of the real server', () => {
  const events: { type: string; reason?: string }[] = [];
  let gh: StartedGatehouse;
  beforeAll(async () => {
    gh = await startGatehouse({
      gatehouse: {
        // The demo page's client registers its scopes, as most real clients do.
        clients: [...TEST_CLIENTS, ...demoClients().clients],
        onSecurityEvent: (event) => events.push(event),
      },
    });
    await gh.server.accounts.create({
      email: 'form@example.test',
      password: 'form-password-0123456789',
      emailVerified: true,
    });
  });
  afterAll(() => gh?.stop());

  async function openLogin(jar: CookieJar) {
    // As the demo page's SDK asks: an explicit RFC 8707 resource and both API scopes.
    const url = new URL(`${gh.issuer}/authorize`);
    url.search = new URLSearchParams({
      client_id: 'demo-spa',
      response_type: 'code',
      redirect_uri: `${DEMO_APP_URL}/callback`,
      scope: 'openid profile email offline_access recipes:read recipes:write',
      resource: API,
      state: 'state-123',
      code_challenge: (await pkce()).challenge,
      code_challenge_method: 'S256',
    }).toString();
    const response = await getWithCookies(String(url), jar);
    const location = new URL(String(response.headers.get('location')), gh.issuer);
    const page = await getWithCookies(location.href, jar);
    const html = await page.text();
    const csrf = html.match(/name="csrf" value="([^"]+)"/)?.[1];
    return { url: location.href, csrf: String(csrf), page, html };
  }

  const post = (url: string, jar: CookieJar, form: Record<string, string>) =>
    fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
      body: new URLSearchParams(form),
    });

  it('renders the login page with strict security headers', async () => {
    const { page, html } = await openLogin(new CookieJar());
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(page.headers.get('cache-control')).toMatch(/no-store/);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(html).toMatch(/name="email" type="email" autocomplete="username"/);
  });

  it('a wrong password is the generic message, 401, and a login_failed security event', async () => {
    const jar = new CookieJar();
    const { url, csrf } = await openLogin(jar);
    const response = await post(`${url}/login`, jar, {
      csrf,
      email: 'form@example.test',
      password: 'wrong-password-000000',
    });
    expect(response.status).toBe(401);
    expect(await response.text()).toMatch(/email or password is incorrect/i);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'login_failed', reason: 'invalid_credentials' }),
    );
  });

  it('the right password continues the flow (a redirect, not a page)', async () => {
    const jar = new CookieJar();
    const { url, csrf } = await openLogin(jar);
    const response = await post(`${url}/login`, jar, {
      csrf,
      email: 'form@example.test',
      password: 'form-password-0123456789',
    });
    expect(response.status).toBeGreaterThanOrEqual(300);
    expect(response.status).toBeLessThan(400);
  });

  it('a form without its CSRF token is refused and changes nothing', async () => {
    const jar = new CookieJar();
    const { url } = await openLogin(jar);
    const response = await post(`${url}/login`, jar, {
      email: 'form@example.test',
      password: 'form-password-0123456789',
    });
    expect(response.status).toBe(403);
  });
});

describe('the device code page after a bad or expired form', () => {
  let gh: StartedGatehouse;
  beforeAll(async () => {
    gh = await startGatehouse();
  });
  afterAll(() => gh?.stop());

  it('an unknown /device/:uid and a sessionless POST get a page (4xx), never a 500', async () => {
    const unknown = await fetch(`${gh.issuer}/device/not-a-real-uid`, { redirect: 'manual' });
    expect(unknown.status).toBeGreaterThanOrEqual(400);
    expect(unknown.status).toBeLessThan(500);
    const post = await fetch(`${gh.issuer}/device`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'xsrf=forged&user_code=ABCD-EFGH',
    });
    expect(post.status).toBeGreaterThanOrEqual(400);
    expect(post.status).toBeLessThan(500);
    // The page it renders can be submitted again: its session was saved with the new xsrf.
    const jar = new CookieJar();
    jar.store(post);
    const html = await post.text();
    const xsrf = html.match(/name="xsrf" value="([^"]+)"/)?.[1];
    expect(xsrf).toBeTypeOf('string');
    const retry = await fetch(`${gh.issuer}/device`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
      body: new URLSearchParams({ xsrf: String(xsrf), user_code: 'ABCD-EFGH' }),
    });
    // A wrong code now, not a broken form: the page says so (4xx), and still no 500.
    expect(retry.status).toBeLessThan(500);
    expect(await retry.text()).not.toMatch(/session/i);
  });
});
