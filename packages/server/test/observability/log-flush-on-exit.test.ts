import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { type GatehouseProcess, startGatehouseProcess } from '@gatehouse/testkit/process';
import { openSignInPage } from '@gatehouse/testkit/sign-in';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

// Throws from the event loop on SIGUSR2: a crash, as far as the process can tell.
const CRASH_ON_SIGUSR2 = fileURLToPath(new URL('./support/crash-on-sigusr2.ts', import.meta.url));
/** Request lines logged just before the process stops: less than one write batch, so still buffered. */
const REQUESTS = 5;

let redis: RedisProcess;
let gatehouse: GatehouseProcess | undefined;
beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await gatehouse?.cleanup();
  gatehouse = undefined;
});
afterAll(() => redis?.cleanup());

/** A sign-in with a wrong password: the `login_failed` security event. */
async function failSignIn(issuer: string): Promise<void> {
  const page = await openSignInPage(issuer);
  const response = await fetch(`${issuer}${page.path}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: page.cookies },
    body: new URLSearchParams({ email: 'nobody@example.com', password: 'wrong', csrf: page.csrf }),
    redirect: 'manual',
  });
  await response.text();
}

/**
 * The process logs at `info` (one line per request): a few requests, the failed sign-in last,
 * and `stop` ends the process at once, before the lines' batch is due.
 */
async function logThenStop(stop: (process: GatehouseProcess) => void) {
  gatehouse = await startGatehouseProcess({
    redisUrl: redis.url,
    // Development without a terminal: JSON lines at info, as a container would log them.
    env: { NODE_ENV: 'development' },
    nodeFlags: ['--import', CRASH_ON_SIGUSR2],
  });
  const { child, issuer } = gatehouse;
  for (let i = 0; i < REQUESTS; i++) {
    await fetch(`${gatehouse.url}/.well-known/openid-configuration`).then((r) => r.text());
  }
  await failSignIn(issuer);
  // 'close': the process has exited and its stdout is read to the end.
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  stop(gatehouse);
  const [exit] = await closed;
  const lines = gatehouse
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string; event?: string; route?: string });
  return { exit, lines };
}

describe('request and security logs are written in batches, and nothing buffered is lost on exit', () => {
  it('SIGTERM: every line logged before it, the failed sign-in included, reaches the log', async () => {
    const { exit, lines } = await logThenStop((p) => p.child.kill('SIGTERM'));
    expect(exit).toBe(0);
    expect(lines.filter((l) => l.msg === 'request' && l.route === 'discovery')).toHaveLength(REQUESTS);
    expect(lines.some((l) => l.event === 'login_failed')).toBe(true);
  }, 60_000);

  it('a crash (uncaught exception): the lines logged before it still reach the log', async () => {
    const { exit, lines } = await logThenStop((p) => p.child.kill('SIGUSR2'));
    expect(exit).not.toBe(0);
    expect(lines.filter((l) => l.msg === 'request' && l.route === 'discovery')).toHaveLength(REQUESTS);
    expect(lines.some((l) => l.event === 'login_failed')).toBe(true);
  }, 60_000);
});
