import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { postForm } from '@gatehouse/testkit/forms';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { signIn } from '@gatehouse/testkit/sign-in';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const SECRET = 'test-secret-test-secret-test-secret-0123';

describe('pnpm gatehouse users … against a running server', () => {
  const gh = suiteGatehouse();

  const gatehouse = async (...args: string[]) => {
    const { stdout } = await run(process.execPath, ['--conditions=@gatehouse/source', CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', REDIS_URL: gh.redis.url, GATEHOUSE_SECRET: SECRET },
    });
    return stdout.trim();
  };
  const refresh = (refreshToken: string) =>
    postForm(`${gh.issuer}/token`, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: 'spa',
    });

  it('users add creates an account the server can sign in', async () => {
    const out = JSON.parse(
      await gatehouse(
        'users',
        'add',
        '--email',
        'Ada@Example.com',
        '--password',
        'correct horse battery',
        '--verified',
      ),
    );
    // The address is kept as typed; lookups and uniqueness ignore case.
    expect(out).toMatchObject({ email: 'Ada@Example.com', email_verified: true });
    const account = await gh.server.accounts.verifyPassword('ada@example.com', 'correct horse battery');
    expect(account.ok).toBe(true);
  });

  it('users disable: the user’s refresh tokens stop working at once', async () => {
    const { refreshToken } = await signIn(gh.server, gh.issuer, 'disable-me');
    await gatehouse('users', 'disable', 'disable-me@example.test');
    expect((await refresh(refreshToken)).body.error).toBe('invalid_grant');
  });

  it('users revoke: ends every grant of the user', async () => {
    const first = await signIn(gh.server, gh.issuer, 'revoke-me');
    const second = await signIn(gh.server, gh.issuer, 'revoke-me');
    expect(await gatehouse('users', 'revoke', 'revoke-me@example.test')).toMatch(
      /^revoked every session and \d+ grant/,
    );
    expect((await refresh(first.refreshToken)).body.error).toBe('invalid_grant');
    expect((await refresh(second.refreshToken)).body.error).toBe('invalid_grant');
  });
});
