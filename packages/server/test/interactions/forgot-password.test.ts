import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { freePort } from '@gatehouse/testkit';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AccountStore, createAccountStore, createMailer } from '../../src/accounts/index.ts';
import { loadConfig } from '../../src/config.ts';
import { createInteractionRoutes } from '../../src/interactions/index.ts';
import { createRateLimiter } from '../../src/security/index.ts';

const PASSWORD = 'correct horse battery staple';

/** Records which account-store methods run, and whether the response was already finished. */
function recordingStore(
  store: AccountStore,
  phase: { current: 'request' | 'after' },
  calls: string[],
): AccountStore {
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(`${phase.current}:${String(name)}`);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

let server: Server;
let origin: string;
const phase: { current: 'request' | 'after' } = { current: 'request' };
const calls: string[] = [];
const mailer = createMailer({ smtpUrl: undefined, issuer: 'http://127.0.0.1' }, { info: () => {} });

beforeAll(async () => {
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    ISSUER: origin,
    GATEHOUSE_SECRET: randomBytes(32).toString('hex'),
  });
  const plain = createAccountStore({ kind: 'memory' });
  await plain.create({ email: 'known@example.com', password: PASSWORD });
  const app = new Koa();
  app.use(async (_ctx, next) => {
    phase.current = 'request';
    await next();
    // Koa sends the response once this chain settles; anything later is off the request path.
    phase.current = 'after';
  });
  app.use(
    createInteractionRoutes({
      // Forgot-password never reaches the provider.
      provider: () => {
        throw new Error('not used');
      },
      accounts: recordingStore(plain, phase, calls),
      config,
      mailer,
      limiter: createRateLimiter({ kind: 'memory' }),
    }),
  );
  server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

async function forgot(email: string): Promise<{ status: number; body: string }> {
  const form = await fetch(`${origin}/forgot-password`);
  const cookie = (form.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const response = await fetch(`${origin}/forgot-password`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({ csrf, email }),
  });
  return { status: response.status, body: await response.text() };
}

describe('forgot-password takes the same path for known and unknown emails', () => {
  it('looks nothing up before answering, so the answer cannot be timed', async () => {
    const known = await forgot('known@example.com');
    const unknown = await forgot('unknown@example.com');
    expect(unknown).toEqual(known);
    await expect.poll(() => mailer.outbox.length).toBe(1);
    expect(mailer.outbox[0]?.to).toBe('known@example.com');
    expect(calls.filter((call) => call.startsWith('request:'))).toEqual([]);
    expect(calls).toEqual(expect.arrayContaining(['after:findByEmail', 'after:issueEmailToken']));
  });
});
