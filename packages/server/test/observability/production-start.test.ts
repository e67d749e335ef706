import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { freePort, type RedisProcess, startRedis } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What the container runs (`node dist/main.js`), from source: same entry, same config checks.
const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const SECRET = 'prod-secret-0123456789abcdef0123456789abcdef';

function run(entry: string, args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--conditions=@gatehouse/source', entry, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  return { child, stdout: () => stdout, stderr: () => stderr };
}

async function exitOf(child: ReturnType<typeof spawn>): Promise<number | null> {
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

describe('production start', () => {
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = await startRedis({
      args: ['--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction'],
    });
  });
  afterAll(async () => {
    await redis?.cleanup();
  });

  const production = (extra: Record<string, string> = {}) => ({
    NODE_ENV: 'production',
    ISSUER: 'https://auth.example.com',
    GATEHOUSE_SECRET: SECRET,
    REDIS_URL: redis.url,
    ...extra,
  });

  it.each([
    ['GATEHOUSE_SECRET', { GATEHOUSE_SECRET: '' }, /NODE_ENV=production needs GATEHOUSE_SECRET/],
    ['Redis', { REDIS_URL: '' }, /NODE_ENV=production needs REDIS_URL/],
    ['an https issuer', { ISSUER: 'http://auth.example.com' }, /ISSUER must be https in production/],
    [
      'a long enough secret',
      { GATEHOUSE_SECRET: 'short' },
      /GATEHOUSE_SECRET must be at least 32 characters/,
    ],
    ['a valid METRICS_PORT', { METRICS_PORT: 'ninety' }, /METRICS_PORT must be a port number/],
  ])('refuses to start without %s: one line on stderr, exit 1', async (_what, override, message) => {
    const { child, stdout, stderr } = run(main, [], {
      PORT: String(await freePort()),
      ...production(override),
    });
    expect(await exitOf(child)).toBe(1);
    expect(stderr().trim().split('\n')).toHaveLength(1);
    expect(stderr()).toMatch(message);
    expect(stdout()).toBe('');
  });

  it('starts with a secret and Redis, logs JSON only, answers /healthz and /readyz, exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const { child, stdout } = run(main, [], { PORT: String(port), ...production() });
    try {
      let ready = false;
      for (let i = 0; i < 100 && !ready; i++) {
        ready = await fetch(`http://localhost:${port}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        if (!ready) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ready).toBe(true);
      const health = await fetch(`http://localhost:${port}/healthz`);
      expect(await health.json()).toEqual({ status: 'ok' });
      const discovery = await fetch(`http://localhost:${port}/.well-known/openid-configuration`);
      expect(((await discovery.json()) as { issuer: string }).issuer).toBe('https://auth.example.com');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exitOf(child)).toBe(0);
    const lines = stdout().trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(stdout()).not.toContain(SECRET);
    // No in-process-store warning, no demo block: this is not development.
    expect(stdout()).not.toMatch(/in-process store/i);
  });

  it('refuses to start when Redis is not reachable', { timeout: 30_000 }, async () => {
    const { child, stderr } = run(main, [], {
      PORT: String(await freePort()),
      ...production({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` }),
    });
    expect(await exitOf(child)).toBe(1);
    expect(stderr()).toMatch(/Redis is not reachable/);
  });
});

describe('gatehouse config check', () => {
  it('prints the effective configuration as JSON with every secret masked', async () => {
    const env = {
      NODE_ENV: 'production',
      ISSUER: 'https://auth.example.com',
      GATEHOUSE_SECRET: SECRET,
      REDIS_URL: 'redis://default:redis-password-123@redis.internal:6379',
      GATEHOUSE_REGISTRATION_TOKEN: 'registration-token-0123456789',
      SMTP_URL: 'smtps://mailer:smtp-password-456@smtp.example.com:465',
      METRICS_PORT: '9464',
      TRUST_PROXY: '1',
    };
    const { child, stdout, stderr } = run(cli, ['config', 'check'], env);
    expect(await exitOf(child)).toBe(0);
    expect(stderr()).toBe('');
    const out = stdout();
    for (const secret of [
      SECRET,
      'redis-password-123',
      'registration-token-0123456789',
      'smtp-password-456',
    ]) {
      expect(out).not.toContain(secret);
    }
    const config = JSON.parse(out) as Record<string, unknown>;
    expect(config).toMatchObject({
      env: 'production',
      issuer: 'https://auth.example.com',
      port: 4000,
      trustedProxyHops: 1,
      metricsPort: 9464,
      accessTokenTTL: 900,
      refreshTokenTTL: 1_209_600,
      redis: { kind: 'standalone', url: expect.stringContaining('redis.internal:6379') },
      secret: '********',
      registrationToken: '********',
    });
  });

  it('names the wrong variable and what is allowed, one line, exit 1', async () => {
    const { child, stdout, stderr } = run(cli, ['config', 'check'], { ACCESS_TOKEN_TTL: '15m' });
    expect(await exitOf(child)).toBe(1);
    expect(stdout()).toBe('');
    expect(stderr().trim().split('\n')).toHaveLength(1);
    expect(stderr()).toMatch(/^gatehouse: ACCESS_TOKEN_TTL must be a whole number of seconds, got "15m"/);
  });
});
