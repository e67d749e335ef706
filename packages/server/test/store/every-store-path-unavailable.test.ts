import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { basic, REDIRECT_URI, SERVICE_SECRET } from '@gatehouse/testkit/clients';
import { CookieJar, getWithCookies as get, postForm } from '@gatehouse/testkit/forms';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import {
  authorizationCode,
  authorizationUrl,
  ensureAccount,
  oauthClient,
  pkce,
  signIn,
} from '@gatehouse/testkit/sign-in';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/store/errors.ts';

/**
 * Every request that needs the store, asked while Redis is away, answers 503 with Retry-After:
 * a client can tell "try again shortly" from a server bug, and no Redis error text leaks.
 * Two servers share the Redis: one with REFRESH_TOKEN_REUSE_INTERVAL (its refreshes take a lock
 * in Redis first), one without.
 */
describe('every store path while Redis is away', () => {
  let redis: RedisProcess;
  let reuse: StartedGatehouse;
  let plain: StartedGatehouse;

  beforeAll(async () => {
    redis = await startRedis();
    // Connection errors while Redis is stopped are expected; the answers below are what is checked.
    const gatehouse = { onError: () => {}, keyPollSeconds: 1 };
    reuse = await startGatehouse({ redis, env: { REFRESH_TOKEN_REUSE_INTERVAL: '30' }, gatehouse });
    plain = await startGatehouse({ redis, gatehouse });
  });
  afterAll(async () => {
    await reuse?.stop();
    await plain?.stop();
    await redis?.cleanup();
  });

  /** 503, Retry-After, and nothing of Redis in the body. */
  async function expectUnavailable(what: string, response: Response | Promise<Response>): Promise<void> {
    const answer = await response;
    const body = await answer.text();
    expect({ what, status: answer.status }).toEqual({ what, status: 503 });
    expect(answer.headers.get('retry-after'), what).toBe('1');
    expect(body, what).not.toMatch(/ECONNREFUSED|Connection is closed|ioredis|stream isn't writeable/i);
  }

  const form = (url: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields),
    });
  const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

  /** Follows redirects within the issuer until a page answers; returns its URL and HTML. */
  async function page(start: Response, jar: CookieJar, issuer: string) {
    let response = start;
    let url = '';
    for (let hops = 0; hops < 10 && response.status >= 300 && response.status < 400; hops++) {
      url = new URL(response.headers.get('location') ?? '', issuer).href;
      response = await get(url, jar);
    }
    expect(response.status).toBe(200);
    return { url, html: await response.text() };
  }

  it('answers 503 + Retry-After on every one of them, never 500', async () => {
    const { issuer } = plain;
    // State made while Redis is up: tokens, an unredeemed code, a device code, pages with their forms.
    const viaReuse = await signIn(reuse.server, reuse.issuer);
    const viaPlain = await signIn(plain.server, plain.issuer);
    const code = await authorizationCode(plain.server, issuer);
    const device = await postForm(`${issuer}/device/auth`, { client_id: 'cli', scope: 'openid' });
    expect(device.status).toBe(200);

    await ensureAccount(plain.server, 'pages');
    const jar = new CookieJar();
    const client = await oauthClient(issuer, 'spa');
    const signInPage = await page(
      await get(String(authorizationUrl(client, await pkce())), jar),
      jar,
      issuer,
    );
    const signInUid = new URL(signInPage.url).pathname.split('/').pop() ?? '';
    // A second authorization, signed in through the page, stops at the consent page.
    const consentJar = new CookieJar();
    const first = await page(
      await get(String(authorizationUrl(client, await pkce())), consentJar),
      consentJar,
      issuer,
    );
    const loggedIn = await form(
      `${first.url}/login`,
      { csrf: csrfOf(first.html), email: 'pages@example.test', password: 'pages-password-0123456789' },
      { cookie: consentJar.header() },
    );
    consentJar.store(loggedIn);
    const consentPage = await page(loggedIn, consentJar, issuer);
    expect(consentPage.html).toContain('Allow');
    const register = await get(`${issuer}/register`, jar);
    const registerCsrf = csrfOf(await register.text());
    const forgot = await get(`${issuer}/forgot-password`, jar);
    const forgotCsrf = csrfOf(await forgot.text());
    // The device code page with its form, where the user code is entered (and its guesses counted).
    const deviceJar = new CookieJar();
    const devicePage = await (await get(`${issuer}/device`, deviceJar)).text();
    const deviceXsrf = /name="xsrf" value="([^"]+)"/.exec(devicePage)?.[1] ?? '';

    await redis.stop();

    // Token endpoint: every grant, a refresh with and without the reuse interval.
    const refresh = (gh: StartedGatehouse, token: string) =>
      form(`${gh.issuer}/token`, { grant_type: 'refresh_token', refresh_token: token, client_id: 'spa' });
    await expectUnavailable('refresh, reuse interval', refresh(reuse, viaReuse.refreshToken));
    await expectUnavailable('refresh', refresh(plain, viaPlain.refreshToken));
    await expectUnavailable(
      'authorization code',
      form(`${issuer}/token`, {
        grant_type: 'authorization_code',
        code: code.code,
        code_verifier: code.verifier,
        redirect_uri: REDIRECT_URI,
        client_id: 'spa',
      }),
    );
    await expectUnavailable(
      'client credentials (limiter)',
      form(
        `${issuer}/token`,
        { grant_type: 'client_credentials', scope: 'recipes:read' },
        basic('service', SERVICE_SECRET),
      ),
    );
    await expectUnavailable(
      'device code',
      form(`${issuer}/token`, {
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: String(device.body.device_code),
        client_id: 'cli',
      }),
    );
    await expectUnavailable(
      'device authorization',
      form(`${issuer}/device/auth`, { client_id: 'cli', scope: 'openid' }),
    );
    // Both would store a record for a public client, each counted per address first.
    const authorizationParams = Object.fromEntries(authorizationUrl(client, await pkce()).searchParams);
    await expectUnavailable('pushed authorization request', form(`${issuer}/par`, authorizationParams));
    // RFC 6749 §4.1.2.1: the authorization endpoint tells the client, at its redirect URI.
    const authorization = await get(String(authorizationUrl(client, await pkce())), new CookieJar());
    expect(authorization.status).toBe(303);
    const told = new URL(String(authorization.headers.get('location')));
    expect(told.origin + told.pathname).toBe(REDIRECT_URI);
    expect(told.searchParams.get('error')).toBe('temporarily_unavailable');
    await expectUnavailable(
      'introspection',
      form(`${issuer}/introspect`, { token: viaPlain.tokens.access_token, client_id: 'spa' }),
    );
    await expectUnavailable(
      'revocation',
      form(`${issuer}/revoke`, { token: viaPlain.refreshToken, client_id: 'spa' }),
    );

    // Pages.
    await expectUnavailable('sign-in page', get(signInPage.url, jar));
    await expectUnavailable(
      'sign-in (limiter, accounts)',
      form(
        `${issuer}/interaction/${signInUid}/login`,
        { csrf: csrfOf(signInPage.html), email: 'pages@example.test', password: 'pages-password-0123456789' },
        { cookie: jar.header() },
      ),
    );
    await expectUnavailable('consent page', get(consentPage.url, consentJar));
    await expectUnavailable(
      'consent',
      form(`${consentPage.url}/confirm`, { csrf: csrfOf(consentPage.html) }, { cookie: consentJar.header() }),
    );
    await expectUnavailable(
      'registration',
      form(
        `${issuer}/register`,
        { csrf: registerCsrf, email: 'new@example.test', name: 'New', password: 'Ample-Orbit-Quartz-71' },
        { cookie: jar.header() },
      ),
    );
    await expectUnavailable(
      'forgot password',
      form(
        `${issuer}/forgot-password`,
        { csrf: forgotCsrf, email: 'pages@example.test' },
        { cookie: jar.header() },
      ),
    );
    await expectUnavailable('device page', get(`${issuer}/device`, new CookieJar()));
    await expectUnavailable(
      'device code entry',
      form(
        `${issuer}/device`,
        { xsrf: deviceXsrf, user_code: String(device.body.user_code) },
        { cookie: deviceJar.header() },
      ),
    );

    // The key watcher: a refresh fails as the store does, while the keys it has keep being served.
    await expect(plain.server.keys.refresh()).rejects.toBeInstanceOf(StoreUnavailableError);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await fetch(`${issuer}/jwks`)).status).toBe(200);

    // And it recovers by itself (the restarted Redis is empty: no AOF here).
    await redis.restart();
    for (const gh of [reuse, plain]) {
      await expect
        .poll(async () => (await fetch(`${gh.issuer}/readyz`)).status, { timeout: 10_000 })
        .toBe(200);
      const cc = await form(
        `${gh.issuer}/token`,
        { grant_type: 'client_credentials', scope: 'recipes:read' },
        basic('service', SERVICE_SECRET),
      );
      expect(cc.status).toBe(200);
    }
  });
});
