import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordProblem } from '../../src/accounts/index.ts';
import { startTestServer, type TestServer } from '../pages/support/provider.ts';
import { PageUserAgent } from './support/page-user-agent.ts';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

// Entries of the shipped list (zxcvbn-ts common passwords) that are long enough to pass a length check.
const COMMON = ['qwerty123456', '1qaz2wsx3edc', 'administrator'];
const TOO_COMMON =
  /This password is too common: it is on the lists of leaked passwords that attackers try first\./;
const IS_EMAIL = /Do not use your email address as your password/;

let redis: RedisProcess;
let server: TestServer;

beforeAll(async () => {
  redis = await startRedis();
  server = await startTestServer({ redis: { url: redis.url } });
});

afterAll(async () => {
  await server?.close();
  await redis?.cleanup();
});

let n = 0;
const uniqueEmail = (label: string) => `${label}.${n++}.${Date.now()}@example.com`;

describe('the password policy (NIST SP 800-63B §5.1.1.2)', () => {
  const owner = { email: 'Augusta.Ada.King@Example.com' };

  it('refuses breached passwords from the shipped list, whatever their case', async () => {
    for (const password of [...COMMON, 'QWERTY123456', 'Administrator']) {
      expect(await passwordProblem(password, owner)).toMatch(TOO_COMMON);
    }
  });

  it('refuses the email address, or its local part, as the password', async () => {
    expect(await passwordProblem('augusta.ada.king@example.com', owner)).toMatch(IS_EMAIL);
    expect(await passwordProblem(' AUGUSTA.ADA.KING ', owner)).toMatch(IS_EMAIL);
  });

  it('refuses a few characters repeated', async () => {
    for (const password of ['aaaaaaaaaaaa', 'abababababab', 'abcabcabcabc']) {
      expect(await passwordProblem(password, owner)).toMatch(/repeats the same few characters/);
    }
  });

  it('keeps the length range and asks for no composition rules', async () => {
    expect(await passwordProblem('elevenchars', owner)).toBe('Use at least 12 characters.');
    expect(await passwordProblem('x'.repeat(257), owner)).toBe('Use at most 256 characters.');
    for (const accepted of [
      'correct horse battery staple',
      'onlylowercaseletters',
      '🐈🐕🐇🐢🐍🦊🦉🐝🐞🦋🐙🦀',
      'a long passphrase of sixty-four characters is welcome here, yes!',
      `${'one of many words '.repeat(14)}end`.slice(0, 256),
    ]) {
      expect(await passwordProblem(accepted, owner)).toBeUndefined();
    }
  });
});

describe('the password policy on the real pages and CLI', () => {
  it('sign-up: a common password or the email address gets a clear message on the form, and no account', async () => {
    const agent = new PageUserAgent(server.issuer);
    const email = uniqueEmail('signup');
    const common = await agent.submit('/register', '/register', { email, password: 'Qwerty123456' });
    expect(common.status).toBe(400);
    expect(common.body).toMatch(TOO_COMMON);
    expect(common.body).toContain('<form method="post" action="/register">');
    const same = await agent.submit('/register', '/register', { email, password: email.toUpperCase() });
    expect(same.status).toBe(400);
    expect(same.body).toMatch(IS_EMAIL);
    expect(await server.accounts.findByEmail(email)).toBeUndefined();

    const good = await agent.submit('/register', '/register', {
      email,
      password: 'a tortoise reads the map',
    });
    expect(good.status).toBe(200);
    expect(await server.accounts.findByEmail(email)).toBeDefined();
  });

  it('reset: a common password is refused on the form and the link still works for a good one', async () => {
    const email = uniqueEmail('reset');
    await server.accounts.create({ email, password: 'the password before' });
    const agent = new PageUserAgent(server.issuer);
    await agent.submit('/forgot-password', '/forgot-password', { email });
    let link = '';
    await expect
      .poll(() => {
        const mail = server.mailer.outbox.find((m) => m.to === email && m.subject === 'Reset your password');
        link = /https?:\/\/\S+\/reset-password\?token=\S+/.exec(mail?.text ?? '')?.[0] ?? '';
        return link;
      })
      .not.toBe('');
    const token = new URL(link).searchParams.get('token') ?? '';
    const page = `/reset-password?token=${token}`;

    const common = await agent.submit(page, '/reset-password', { token, password: '1QAZ2WSX3EDC' });
    expect(common.status).toBe(400);
    expect(common.body).toMatch(TOO_COMMON);
    expect(common.body).toContain('Set new password');
    const same = await agent.submit(page, '/reset-password', { token, password: email });
    expect(same.status).toBe(400);
    expect(same.body).toMatch(IS_EMAIL);

    const good = await agent.submit(page, '/reset-password', { token, password: 'a tortoise reads the map' });
    expect(good.status).toBe(200);
    expect(await server.accounts.verifyPassword(email, 'a tortoise reads the map')).toMatchObject({
      ok: true,
    });
  });

  it('gatehouse users add: a common password is refused with one clear line and exit 1', async () => {
    const email = uniqueEmail('cli');
    const refused = await run(
      process.execPath,
      [
        '--conditions=@gatehouse/source',
        CLI,
        'users',
        'add',
        '--email',
        email,
        '--password',
        'Administrator',
      ],
      { env: { PATH: process.env.PATH ?? '', REDIS_URL: redis.url, GATEHOUSE_SECRET: 'x'.repeat(40) } },
    ).then(
      () => undefined,
      (err: { code?: number; stderr?: string }) => err,
    );
    expect(refused?.code).toBe(1);
    expect(refused?.stderr?.trim()).toMatch(/^gatehouse: users add: This password is too common/);
    expect(await server.accounts.findByEmail(email)).toBeUndefined();
  });
});
