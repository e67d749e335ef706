import { REDIRECT_URI } from '@gatehouse/testkit/clients';
import { CookieJar, getWithCookies } from '@gatehouse/testkit/forms';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { pkce } from '@gatehouse/testkit/sign-in';
import { describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../src/observability/security-events.ts';

const PASSWORD = 'the-right-password-0123456789';

// The attack: one interaction, one CSRF token, a burst of parallel password guesses. Before,
// the limiter only peeked before argon2 and counted afterwards, so the whole burst passed the
// peek and the right password (the 97th of 100) signed in.
describe('sign-in lockout under parallel guesses (real server, real Redis)', () => {
  const events: SecurityEvent[] = [];

  const gh = suiteGatehouse({ gatehouse: { onSecurityEvent: (event) => events.push(event) } });

  async function openLogin() {
    const jar = new CookieJar();
    const url = new URL(`${gh.issuer}/authorize`);
    url.search = new URLSearchParams({
      client_id: 'spa',
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      state: 'state-1',
      code_challenge: (await pkce()).challenge,
      code_challenge_method: 'S256',
    }).toString();
    const response = await getWithCookies(String(url), jar);
    const interaction = new URL(String(response.headers.get('location')), gh.issuer).href;
    const page = await getWithCookies(interaction, jar);
    const csrf = (await page.text()).match(/name="csrf" value="([^"]+)"/)?.[1];
    const action = `${interaction}/login`;
    const login = (email: string, password: string) =>
      fetch(action, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
        body: new URLSearchParams({ csrf: String(csrf), email, password }),
      });
    return Object.assign(login, { jar });
  }

  const failuresFor = (since: number) => events.slice(since).filter((e) => e.type === 'login_failed').length;

  it('evaluates at most 5 of 100 parallel guesses and refuses the right password with 429', async () => {
    const email = `burst.${Date.now()}@example.test`;
    await gh.server.accounts.create({ email, password: PASSWORD, emailVerified: true });
    const login = await openLogin();
    const before = events.length;

    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => login(email, i === 96 ? PASSWORD : `wrong-guess-${i}`)),
    );
    const statuses = responses.map((r) => r.status);

    // Each 401 is one argon2 evaluation; so is each login_failed event.
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(failuresFor(before)).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    const right = responses[96];
    expect(right?.status).toBe(429);
    expect(Number(right?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    // Afterwards the account is locked for what is left of the 15-minute window.
    const later = await login(email, PASSWORD);
    expect(later.status).toBe(429);
    expect(Number(later.headers.get('retry-after'))).toBeGreaterThan(60);
    expect(await later.text()).toMatch(/Too many failed sign-in attempts\. Try again in \d+ minutes/);

    // The lockout is reported once, with its own scope, not once per refused request.
    const lockouts = events.slice(before).filter((e) => e.type === 'lockout');
    expect(lockouts).toEqual([
      expect.objectContaining({ type: 'lockout', scope: 'account', retryAfterSeconds: expect.any(Number) }),
    ]);
    const account = await gh.server.accounts.findByEmail(email);
    expect(lockouts[0]).toMatchObject({ accountId: account?.id });
  });

  it('gives back the slots of sign-ins posted to an interaction that has moved on', async () => {
    const email = `moved.${Date.now()}@example.test`;
    await gh.server.accounts.create({ email, password: PASSWORD, emailVerified: true });
    const login = await openLogin();
    const signedIn = await login(email, PASSWORD);
    expect(signedIn.status).toBe(303);
    // The browser goes on to consent: the old form's interaction is over.
    await getWithCookies(new URL(String(signedIn.headers.get('location')), gh.issuer).href, login.jar);
    const stale = await Promise.all(Array.from({ length: 6 }, (_, i) => login(email, `wrong-${i}`)));
    expect(stale.map((r) => r.status)).toEqual([400, 400, 400, 400, 400, 400]);

    // Had those six kept their slots, this sign-in would wait for them and be refused (busy).
    const fresh = await openLogin();
    expect((await fresh(email, PASSWORD)).status).toBe(303);
  });

  it('a sign-in forgets the account’s failures', async () => {
    const email = `reset.${Date.now()}@example.test`;
    await gh.server.accounts.create({ email, password: PASSWORD, emailVerified: true });
    const first = await openLogin();
    const failed = await Promise.all(Array.from({ length: 4 }, (_, i) => first(email, `wrong-${i}`)));
    expect(failed.map((r) => r.status)).toEqual([401, 401, 401, 401]);
    expect((await first(email, PASSWORD)).status).toBe(303);

    // Had the 4 failures stayed, the fifth below would lock the account and refuse the sixth.
    const second = await openLogin();
    const again = await Promise.all(Array.from({ length: 4 }, (_, i) => second(email, `wrong-again-${i}`)));
    expect(again.map((r) => r.status)).toEqual([401, 401, 401, 401]);
    expect((await second(email, 'wrong-fifth')).status).toBe(401);
    expect((await second(email, PASSWORD)).status).toBe(429);
  });
});
