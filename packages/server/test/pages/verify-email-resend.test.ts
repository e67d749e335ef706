import { submitForm } from '@gatehouse/testkit/forms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AccountStore, createAccountStore } from '../../src/accounts/index.ts';
import { VERIFICATION_RESENDS_PER_EMAIL } from '../../src/security/index.ts';
import { type PagesServer, startPagesServer } from './support/pages-server.ts';

const PASSWORD = 'correct horse battery staple';

let pages: PagesServer;
let accounts: AccountStore;

beforeAll(async () => {
  accounts = createAccountStore({ kind: 'memory' });
  await accounts.create({ email: 'pending@example.com', password: PASSWORD });
  await accounts.create({ email: 'confirmed@example.com', password: PASSWORD, emailVerified: true });
  await accounts.create({ email: 'limited@example.com', password: PASSWORD });
  pages = await startPagesServer(accounts);
});

afterAll(() => pages?.close());

const submit = (page: string, action: string, fields: Record<string, string>) =>
  submitForm(pages.origin, page, action, fields);
const resend = (email: string) => submit('/verify-email/resend', '/verify-email/resend', { email });
const mailsTo = (email: string) => pages.mailer.outbox.filter((message) => message.to === email);

describe('asking for a new email confirmation link', () => {
  it('answers alike for unconfirmed, confirmed and unknown addresses; only the unconfirmed one gets mail', async () => {
    const pending = await resend('pending@example.com');
    const confirmed = await resend('confirmed@example.com');
    const unknown = await resend('nobody@example.com');
    expect(pending.status).toBe(200);
    expect(pending.body).toContain('Check your email');
    expect(confirmed).toEqual(pending);
    expect(unknown).toEqual(pending);
    await expect.poll(() => mailsTo('pending@example.com').length).toBe(1);
    expect(mailsTo('confirmed@example.com')).toEqual([]);
    expect(mailsTo('nobody@example.com')).toEqual([]);
    // Nothing was looked up before the answer went out, so its timing tells nothing either.
    expect(pages.calls.filter((call) => call.startsWith('request:'))).toEqual([]);
  });

  it('sends a link that confirms the address; once confirmed, no further link is sent', async () => {
    await expect.poll(() => mailsTo('pending@example.com').length).toBeGreaterThan(0);
    const mail = mailsTo('pending@example.com').at(-1);
    const link = new URL(/https?:\/\/\S+\/verify-email\?token=\S+/.exec(mail?.text ?? '')?.[0] ?? '');
    const confirmed = await submit(`${link.pathname}${link.search}`, '/verify-email', {
      token: link.searchParams.get('token') ?? '',
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toContain('pending@example.com is confirmed');
    expect((await accounts.findByEmail('pending@example.com'))?.emailVerified).toBe(true);

    const before = mailsTo('pending@example.com').length;
    await resend('pending@example.com');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(mailsTo('pending@example.com')).toHaveLength(before);
  });

  it(`sends at most ${VERIFICATION_RESENDS_PER_EMAIL.limit} links per address and hour, with the same page after that`, async () => {
    const answers = [];
    for (let i = 0; i < VERIFICATION_RESENDS_PER_EMAIL.limit + 2; i++)
      answers.push(await resend('limited@example.com'));
    expect(new Set(answers.map((answer) => answer.status))).toEqual(new Set([200]));
    await expect.poll(() => mailsTo('limited@example.com').length).toBe(VERIFICATION_RESENDS_PER_EMAIL.limit);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(mailsTo('limited@example.com')).toHaveLength(VERIFICATION_RESENDS_PER_EMAIL.limit);
  });

  it('refuses a form without its CSRF token and sends nothing', async () => {
    const before = pages.mailer.outbox.length;
    const response = await fetch(`${pages.origin}/verify-email/resend`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: 'limited@example.com' }),
    });
    expect(response.status).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(pages.mailer.outbox).toHaveLength(before);
  });

  it('points there from an expired confirmation link', async () => {
    const response = await fetch(`${pages.origin}/verify-email?token=not-a-token`);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('href="/verify-email/resend"');
  });
});
