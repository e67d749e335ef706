import { CookieJar } from '@gatehouse/testkit/forms';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../src/observability/security-events.ts';
import { USER_CODE_FAILURES_PER_IP } from '../../src/security/guess-throttles.ts';

// The attack (RFC 8628 §5.1): the device code page looked up every code it was sent, however many
// came from one address, so a script could try user codes until it hit one a victim's device was
// showing and connect that device to the attacker's account.
describe('device user codes guessed from one address (real server, real Redis)', () => {
  const events: SecurityEvent[] = [];
  // One proxy in front, so each test can come from an address of its own (X-Forwarded-For).
  const gh = suiteGatehouse({
    env: { TRUST_PROXY: '1' },
    gatehouse: { onSecurityEvent: (event) => events.push(event) },
  });

  /** A device authorization of the test `cli` client: the user code its screen would show. */
  async function deviceUserCode(): Promise<string> {
    const response = await fetch(`${gh.issuer}/device/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'cli', scope: 'openid' }),
    });
    expect(response.status).toBe(200);
    return String(((await response.json()) as { user_code?: string }).user_code);
  }

  /** A browser at `ip` on the code page: enters a code, as often as it likes, in its one session. */
  async function codePage(ip: string) {
    const jar = new CookieJar();
    const headers = () => ({ cookie: jar.header(), 'x-forwarded-for': ip });
    const first = await fetch(`${gh.issuer}/device`, { headers: headers() });
    jar.store(first);
    let xsrf = /name="xsrf" value="([^"]+)"/.exec(await first.text())?.[1];
    return async (userCode: string) => {
      const response = await fetch(`${gh.issuer}/device`, {
        method: 'POST',
        redirect: 'manual',
        headers: { ...headers(), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ xsrf: String(xsrf), user_code: userCode }),
      });
      jar.store(response);
      const text = await response.text();
      xsrf = /name="xsrf" value="([^"]+)"/.exec(text)?.[1] ?? xsrf;
      const outcome = /Is this your device\?/.test(text)
        ? 'confirm'
        : /That code is not right/.test(text)
          ? 'wrong'
          : response.status === 429
            ? 'refused'
            : `other ${response.status}`;
      return { outcome, status: response.status, retryAfter: Number(response.headers.get('retry-after')) };
    };
  }

  /** Eight letters of the provider's user-code alphabet that no device is showing. */
  const wrongCode = (i: number) =>
    `BCDF${'GHJK'[i % 4]}${'LMNP'[(i >> 2) % 4]}${'QRST'[(i >> 4) % 4]}${'VWXZ'[(i >> 6) % 4]}`;

  it(`looks up at most ${USER_CODE_FAILURES_PER_IP.limit} of 40 parallel guesses, each in a session of its own, and then refuses the right code`, async () => {
    const ip = '203.0.113.10';
    const userCode = await deviceUserCode();
    const pages = await Promise.all(Array.from({ length: 40 }, () => codePage(ip)));
    const before = events.length;

    const results = await Promise.all(pages.map((enter, i) => enter(wrongCode(i))));
    const outcomes = results.map((r) => r.outcome);
    expect(outcomes.filter((o) => o === 'wrong').length).toBeLessThanOrEqual(USER_CODE_FAILURES_PER_IP.limit);
    expect(outcomes.filter((o) => o !== 'wrong' && o !== 'refused')).toEqual([]);
    expect(results.find((r) => r.outcome === 'refused')?.retryAfter).toBeGreaterThanOrEqual(1);

    // The code the device shows is refused too, from that address, for what is left of the window.
    const right = await (await codePage(ip))(userCode);
    expect(right).toMatchObject({ outcome: 'refused', status: 429 });
    expect(right.retryAfter).toBeGreaterThan(60);
    // Once, when the limit is reached, not for every refused request.
    expect(events.slice(before).filter((e) => e.type === 'lockout')).toEqual([
      expect.objectContaining({
        type: 'lockout',
        scope: 'user_code',
        ip,
        retryAfterSeconds: expect.any(Number),
      }),
    ]);

    // Another address is not affected: its user reaches the confirmation of the same code.
    expect((await (await codePage('198.51.100.7'))(userCode)).outcome).toBe('confirm');
  });

  it('counts every address of one IPv6 /64 as one: guesses from 40 addresses of it still meet the limit', async () => {
    const prefix = '2001:db8:40:1';
    const userCode = await deviceUserCode();
    const pages = await Promise.all(Array.from({ length: 40 }, (_, i) => codePage(`${prefix}:${i + 1}::1`)));
    const outcomes = (await Promise.all(pages.map((enter, i) => enter(wrongCode(300 + i))))).map(
      (r) => r.outcome,
    );
    expect(outcomes.filter((o) => o === 'wrong').length).toBeLessThanOrEqual(USER_CODE_FAILURES_PER_IP.limit);
    expect(outcomes.filter((o) => o !== 'wrong' && o !== 'refused')).toEqual([]);
    expect((await (await codePage(`${prefix}:ffff::2`))(userCode)).outcome).toBe('refused');
    // The neighbouring /64 is someone else.
    expect((await (await codePage('2001:db8:40:2::1'))(userCode)).outcome).toBe('confirm');
  });

  it('lets a person mistype a few times, and never counts a right code', async () => {
    const ip = '203.0.113.20';
    const userCode = await deviceUserCode();
    const enter = await codePage(ip);
    for (let i = 0; i < USER_CODE_FAILURES_PER_IP.limit - 1; i++) {
      expect((await enter(wrongCode(100 + i))).outcome).toBe('wrong');
    }
    // The right code, many times over (reloads, other tabs): each reaches the confirmation.
    for (let i = 0; i < USER_CODE_FAILURES_PER_IP.limit + 2; i++) {
      expect((await (await codePage(ip))(userCode)).outcome).toBe('confirm');
    }
    // One more wrong code reaches the limit; after it even the right one is refused.
    expect((await enter(wrongCode(200))).outcome).toBe('wrong');
    expect((await enter(userCode)).outcome).toBe('refused');
  });

  it('does not count an empty code as a guess', async () => {
    const enter = await codePage('203.0.113.30');
    for (let i = 0; i < USER_CODE_FAILURES_PER_IP.limit + 2; i++) {
      const { outcome, status } = await enter('');
      expect(outcome).not.toBe('refused');
      expect(status).toBe(200);
    }
    expect((await enter(await deviceUserCode())).outcome).toBe('confirm');
  });
});
