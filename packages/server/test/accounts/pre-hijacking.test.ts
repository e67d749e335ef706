import { REVOCATION_CHANNEL, type RevocationEvent } from '@gatehouse/resource/revocation-contract';
import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorizationRequest,
  exchangeCode,
  PUBLIC_CLIENT_ID,
  refresh,
  startTestServer,
  type TestServer,
} from '../pages/support/provider.ts';
import { PageUserAgent } from './support/page-user-agent.ts';

// A JWT access token for the demo API (the default resource), and a refresh token.
const SCOPE = 'openid email offline_access recipes:read';
const SQUATTER_PASSWORD = 'squatters know this one';
const OWNER_PASSWORD = 'the owner chose this one';

let redis: RedisProcess;
let server: TestServer;
let subscriber: Redis;
const published: RevocationEvent[] = [];

beforeAll(async () => {
  redis = await startRedis();
  server = await startTestServer({ redis: { url: redis.url } });
  subscriber = new Redis(redis.url);
  subscriber.on('message', (_channel: string, message: string) => {
    published.push(JSON.parse(message) as RevocationEvent);
  });
  await subscriber.subscribe(REVOCATION_CHANNEL);
});

afterAll(async () => {
  subscriber?.disconnect();
  await server?.close();
  await redis?.cleanup();
});

let n = 0;
const victimEmail = () => `victim.${n++}.${Date.now()}@example.com`;

/** The newest link to `path` mailed to `email` (the outbox stands in for the mailbox). */
async function mailedLink(email: string, path: string): Promise<string> {
  const pattern = new RegExp(`https?://\\S+${path}\\?token=\\S+`);
  let link: string | undefined;
  await expect
    .poll(() => {
      const mails = server.mailer.outbox.filter((mail) => mail.to === email && pattern.test(mail.text));
      link = pattern.exec(mails.at(-1)?.text ?? '')?.[0];
      return link;
    })
    .toBeDefined();
  const url = new URL(link ?? '');
  return `${url.pathname}${url.search}`;
}

/** The `Reset your password` mails to `email` so far. */
const resetMails = (email: string) =>
  server.mailer.outbox.filter((mail) => mail.to === email && mail.subject === 'Reset your password');

async function introspect(token: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${server.issuer}/introspect`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, client_id: PUBLIC_CLIENT_ID }),
  });
  return (await response.json()) as Record<string, unknown>;
}

/** Signs in through the pages with offline_access and redeems the code. */
async function signInForTokens(agent: PageUserAgent, email: string, password: string) {
  const request = authorizationRequest(server, SCOPE);
  const callback = await agent.authorize(request.url, server.redirectUri, { email, password });
  const tokens = await exchangeCode(server, callback.searchParams.get('code') ?? '', request.verifier);
  expect(tokens.status).toBe(200);
  return { accessToken: String(tokens.body.access_token), refreshToken: String(tokens.body.refresh_token) };
}

/** `prompt=none` from the agent's browser: a `code`, or the error the client receives. */
async function silentAuthorization(agent: PageUserAgent): Promise<URLSearchParams> {
  const request = authorizationRequest(server, SCOPE);
  return (await agent.authorize(`${request.url}&prompt=none`, server.redirectUri)).searchParams;
}

/**
 * The squatter's part: registers the victim's address without being able to confirm it, signs
 * in, consents with offline_access, and checks that everything works for them: a refresh
 * token, an active access token, and a browser session that answers prompt=none.
 */
async function squat(email: string) {
  const squatter = new PageUserAgent(server.issuer);
  const registered = await squatter.submit('/register', '/register', {
    email,
    password: SQUATTER_PASSWORD,
    name: 'Not the owner',
  });
  expect(registered.status).toBe(200);
  const tokens = await signInForTokens(squatter, email, SQUATTER_PASSWORD);
  expect((await introspect(tokens.accessToken)).active).toBe(true);
  expect((await silentAuthorization(squatter)).get('code')).toBeTruthy();
  const account = await server.accounts.findByEmail(email);
  expect(account?.emailVerified).toBe(false);
  const grantIds = await server.accounts.grantIds(account?.id ?? '');
  expect(grantIds).toHaveLength(1);
  return { squatter, tokens, grantIds };
}

type Squat = Awaited<ReturnType<typeof squat>>;

/** What the squatter notices afterwards: nothing they got before works any more. */
async function expectSquatterLockedOut(taken: Squat) {
  const refreshed = await refresh(server, taken.tokens.refreshToken);
  expect(refreshed.status).toBe(400);
  expect(refreshed.body.error).toBe('invalid_grant');
  expect((await silentAuthorization(taken.squatter)).get('error')).toBe('login_required');
  expect(await introspect(taken.tokens.accessToken)).toEqual({ active: false });
  // Resource servers are told, as for any other revoked grant (they drop the JWT at once).
  await expect
    .poll(() => published.filter((event) => taken.grantIds.includes(event.id)).map((event) => event.type))
    .toEqual(['grant']);
}

describe('account pre-hijacking: a squatter who registered the address first keeps nothing', () => {
  it('the owner’s password reset ends the squatter’s refresh token, browser session and access token', async () => {
    const email = victimEmail();
    const taken = await squat(email);

    // The owner cannot sign in (they do not know the squatter's password): they reset it.
    const owner = new PageUserAgent(server.issuer);
    expect((await owner.submit('/forgot-password', '/forgot-password', { email })).status).toBe(200);
    const link = await mailedLink(email, '/reset-password');
    const reset = await owner.submit(link, '/reset-password', {
      token: new URL(link, server.issuer).searchParams.get('token') ?? '',
      password: OWNER_PASSWORD,
    });
    expect(reset.status).toBe(200);
    expect(reset.body).toContain('Your new password is set.');

    await expectSquatterLockedOut(taken);
    expect(await server.accounts.verifyPassword(email, SQUATTER_PASSWORD)).toMatchObject({ ok: false });

    // The owner signs in right away, and what they get works.
    const ownTokens = await signInForTokens(owner, email, OWNER_PASSWORD);
    expect(await introspect(ownTokens.accessToken)).toMatchObject({ active: true });
    expect((await refresh(server, ownTokens.refreshToken)).status).toBe(200);
    expect((await server.accounts.findByEmail(email))?.emailVerified).toBe(true);
  });

  it('the first confirmation of the address ends the squatter’s refresh token, browser session and access token', async () => {
    const email = victimEmail();
    const taken = await squat(email);

    // The confirmation link of the squatter's sign-up went to the owner's mailbox.
    const owner = new PageUserAgent(server.issuer);
    const link = await mailedLink(email, '/verify-email');
    const confirmed = await owner.submit(link, '/verify-email', {
      token: new URL(link, server.issuer).searchParams.get('token') ?? '',
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toContain(`${email} is confirmed.`);

    await expectSquatterLockedOut(taken);
    expect((await server.accounts.findByEmail(email))?.emailVerified).toBe(true);
  });
});

describe('reset links are bound to the password they were sent for', () => {
  const tokenOf = (link: string) => new URL(link, server.issuer).searchParams.get('token') ?? '';

  /** Two reset links for a new account, oldest first, with the reset form of each opened. */
  async function twoOpenResetForms(email: string) {
    await server.accounts.create({ email, password: OWNER_PASSWORD });
    const owner = new PageUserAgent(server.issuer);
    const links: string[] = [];
    for (const expected of [1, 2]) {
      await owner.submit('/forgot-password', '/forgot-password', { email });
      await expect.poll(() => resetMails(email).length).toBe(expected);
      links.push(await mailedLink(email, '/reset-password'));
    }
    const forms = [];
    for (const link of links) {
      const page = await owner.get(link);
      expect(page.status).toBe(200);
      const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
      forms.push({
        link,
        submit: (password: string) => owner.post('/reset-password', { csrf, token: tokenOf(link), password }),
      });
    }
    return forms as [(typeof forms)[number], (typeof forms)[number]];
  }

  it('refuses an older link after a newer one was used, even from a form opened before', async () => {
    const email = victimEmail();
    const [older, newer] = await twoOpenResetForms(email);
    expect((await newer.submit('the newer link sets this')).status).toBe(200);

    const late = await older.submit('the older link tries this');
    expect(late.status).toBe(400);
    expect(await late.text()).toContain('The reset link is no longer valid');
    expect((await new PageUserAgent(server.issuer).get(older.link)).status).toBe(400);
    expect(await server.accounts.verifyPassword(email, 'the newer link sets this')).toMatchObject({
      ok: true,
    });
  });

  it('refuses every outstanding link once the password changed by another path', async () => {
    const email = victimEmail();
    const [older, newer] = await twoOpenResetForms(email);
    await server.accounts.setPassword(email, 'changed by an administrator');
    const answers = await Promise.all([
      older.submit('link one tries this'),
      newer.submit('link two tries this'),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([400, 400]);
    expect(await server.accounts.verifyPassword(email, 'changed by an administrator')).toMatchObject({
      ok: true,
    });
  });

  it('lets only one of two links submitted at the same moment change the password', async () => {
    const email = victimEmail();
    const [first, second] = await twoOpenResetForms(email);
    const answers = await Promise.all([
      first.submit('the first link sets this'),
      second.submit('the second link sets this'),
    ]);
    const statuses = answers.map((answer) => answer.status);
    expect([...statuses].sort()).toEqual([200, 400]);
    const winner = statuses[0] === 200 ? 'the first link sets this' : 'the second link sets this';
    const loser = statuses[0] === 200 ? 'the second link sets this' : 'the first link sets this';
    expect(await server.accounts.verifyPassword(email, winner)).toMatchObject({ ok: true });
    expect(await server.accounts.verifyPassword(email, loser)).toMatchObject({ ok: false });
  });
});
