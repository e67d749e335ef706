import { submitForm } from '@gatehouse/testkit/forms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountStore } from '../../src/accounts/index.ts';
import { type PagesServer, startPagesServer } from './support/pages-server.ts';

const PASSWORD = 'correct horse battery staple';

let pages: PagesServer;

beforeAll(async () => {
  const accounts = createAccountStore({ kind: 'memory' });
  await accounts.create({ email: 'known@example.com', password: PASSWORD });
  pages = await startPagesServer(accounts);
});

afterAll(() => pages?.close());

const forgot = (email: string) => submitForm(pages.origin, '/forgot-password', '/forgot-password', { email });

describe('forgot-password takes the same path for known and unknown emails', () => {
  it('looks nothing up before answering, so the answer cannot be timed', async () => {
    const known = await forgot('known@example.com');
    const unknown = await forgot('unknown@example.com');
    expect(unknown).toEqual(known);
    await expect.poll(() => pages.mailer.outbox.length).toBe(1);
    expect(pages.mailer.outbox[0]?.to).toBe('known@example.com');
    expect(pages.calls.filter((call) => call.startsWith('request:'))).toEqual([]);
    expect(pages.calls).toEqual(expect.arrayContaining(['after:findByEmail', 'after:issueEmailToken']));
  });
});
