import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { basic, SERVICE_SECRET, WEB_SECRET } from '@gatehouse/testkit/clients';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { signIn } from '@gatehouse/testkit/sign-in';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SecurityEvent } from '../../src/observability/security-events.ts';
import { loopback, postFormFrom } from './support/from-address.ts';

const clientCredentials = { grant_type: 'client_credentials' };

describe('client authentication lockout (real server, real Redis)', () => {
  let redis: RedisProcess;
  let inspect: Redis;
  let gh: StartedGatehouse;
  const events: SecurityEvent[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    inspect = new Redis(redis.url);
    gh = await startGatehouse({
      redis,
      // No key poll inside the round-trip count below: that GET is the key watcher's, not the lockout's.
      gatehouse: { onSecurityEvent: (event) => events.push(event), keyPollSeconds: 3600 },
    });
  });
  afterAll(async () => {
    await gh?.stop();
    inspect?.disconnect();
    await redis?.cleanup();
  });

  const token = (from: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    postFormFrom(from, `${gh.issuer}/token`, form, headers);
  /** `count` client-credentials requests for `service` from `from` at once, each with another wrong secret. */
  const wrongSecretBurst = (from: string, count: number, prefix: string) =>
    Promise.all(
      Array.from({ length: count }, (_, i) =>
        token(from, clientCredentials, basic('service', `${prefix}-${i}`)),
      ),
    );

  it('evaluates at most 5 of 60 parallel wrong secrets; the rest get 429 + Retry-After, the right one too', async () => {
    const attacker = loopback(10);
    const before = events.length;
    const burst = await wrongSecretBurst(attacker, 60, 'guess');
    const statuses = burst.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    for (const refused of burst.filter((r) => r.status === 429)) {
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(refused.body.error).toBe('invalid_client');
    }

    // The address stays locked for this client, even with the right secret…
    const locked = await token(attacker, clientCredentials, basic('service', SERVICE_SECRET));
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(60);
    // …while the service itself, elsewhere, is not refused.
    expect((await token(loopback(11), clientCredentials, basic('service', SERVICE_SECRET))).status).toBe(200);

    // One event when the limit trips, naming the client, not one per refused request.
    expect(events.slice(before).filter((e) => e.type === 'lockout')).toEqual([
      expect.objectContaining({ scope: 'client', clientId: 'service', ip: attacker }),
    ]);
  });

  it('a secret known on this instance skips Redis, yet a parallel burst of wrong secrets still locks its address out, the known secret too', async () => {
    // The service authenticates from its own address: its credential is known from now on.
    expect((await token(loopback(40), clientCredentials, basic('service', SERVICE_SECRET))).status).toBe(200);
    const attacker = loopback(41);
    const before = events.length;
    const burst = await wrongSecretBurst(attacker, 40, 'known');
    const statuses = burst.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(35);
    expect(events.slice(before).filter((e) => e.type === 'lockout')).toEqual([
      expect.objectContaining({ scope: 'client', clientId: 'service', ip: attacker }),
    ]);
    // The right secret, known here, cannot be used from the locked address to confirm a guess:
    // the in-process lockout refuses it (in parallel as well as alone)…
    const confirm = await Promise.all(
      Array.from({ length: 5 }, () => token(attacker, clientCredentials, basic('service', SERVICE_SECRET))),
    );
    for (const refused of confirm) {
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(60);
    }
    // …while the service's own address goes on without a Redis round trip.
    expect((await token(loopback(40), clientCredentials, basic('service', SERVICE_SECRET))).status).toBe(200);
  });

  it('1,000 failures from 50 addresses lock out neither a confidential nor a public client elsewhere', async () => {
    const { refreshToken } = await signIn(gh.server, gh.issuer, 'noise-victim');
    const addresses = Array.from({ length: 50 }, (_, i) => loopback(100 + i));
    const noise = await Promise.all(
      addresses.flatMap((from) => [
        // Wrong secrets for a confidential client…
        ...Array.from({ length: 10 }, (_, i) =>
          token(from, clientCredentials, basic('service', `noise-${i}`)),
        ),
        // …and any secret at all for public clients, which have none to guess.
        ...Array.from({ length: 5 }, (_, i) =>
          token(from, {
            grant_type: 'refresh_token',
            refresh_token: refreshToken,
            client_id: 'spa',
            client_secret: `x${i}`,
          }),
        ),
        ...Array.from({ length: 5 }, (_, i) =>
          token(from, { grant_type: 'refresh_token', refresh_token: 'bogus' }, basic('spa', `y${i}`)),
        ),
      ]),
    );
    expect(noise).toHaveLength(1000);
    expect(noise.every((r) => r.status === 401 || r.status === 429)).toBe(true);

    const refreshed = await token(loopback(200), {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: 'spa',
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.access_token).toEqual(expect.any(String));
    const service = await token(loopback(201), clientCredentials, basic('service', SERVICE_SECRET));
    expect(service.status).toBe(200);
    // A public client's own requests (no secret) are never gated, even from a noisy address.
    const fromNoise = await token(addresses[0] as string, {
      grant_type: 'refresh_token',
      refresh_token: String(refreshed.body.refresh_token),
      client_id: 'spa',
    });
    expect(fromNoise.status).toBe(200);
  });

  it('never throttles a service by its own concurrency, and a known credential costs no Redis round trip', async () => {
    const from = loopback(30);
    // A credential this instance has not seen yet: the burst queues behind the first attempts, none is refused.
    const cold = await Promise.all(
      Array.from({ length: 30 }, () =>
        postFormFrom(
          from,
          `${gh.issuer}/revoke`,
          { token: 'not-a-token' },
          basic('other-web', `${WEB_SECRET}-other`),
        ),
      ),
    );
    expect(cold.map((r) => r.status)).toEqual(Array(30).fill(200));

    const warm = async () =>
      (
        await Promise.all(
          Array.from({ length: 50 }, () => token(from, clientCredentials, basic('service', SERVICE_SECRET))),
        )
      ).map((r) => r.status);
    await warm();
    const scripts = async () => {
      const stats = await inspect.info('commandstats');
      return [...stats.matchAll(/^cmdstat_(eval|evalsha|mget|get):calls=(\d+)/gm)].reduce(
        (sum, [, , calls]) => sum + Number(calls),
        0,
      );
    };
    const before = await scripts();
    expect(await warm()).toEqual(Array(50).fill(200));
    expect(await scripts()).toBe(before);
  });

  it('a credential in use stays known past 10 minutes (it authenticates on every request); one idle for 10 goes through Redis again', async () => {
    const from = loopback(31);
    const burst = async () =>
      (
        await Promise.all(
          Array.from({ length: 20 }, () => token(from, clientCredentials, basic('service', SERVICE_SECRET))),
        )
      ).map((r) => r.status);
    const scripts = async () => {
      const stats = await inspect.info('commandstats');
      return [...stats.matchAll(/^cmdstat_(eval|evalsha):calls=(\d+)/gm)].reduce(
        (sum, [, , calls]) => sum + Number(calls),
        0,
      );
    };
    // Only the clock of this process moves (the server runs in it); Redis keeps real time.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      expect(await burst()).toEqual(Array(20).fill(200)); // known from the tests above, or admitted now
      const before = await scripts();
      for (let minute = 6; minute <= 24; minute += 6) {
        vi.advanceTimersByTime(6 * 60_000);
        expect(await burst(), `${minute} minutes on`).toEqual(Array(20).fill(200));
      }
      expect(await scripts()).toBe(before);

      // Unused for longer than 10 minutes: admitted through Redis again (and known again after that).
      vi.advanceTimersByTime(11 * 60_000);
      expect(await burst()).toEqual(Array(20).fill(200));
      expect(await scripts()).toBeGreaterThan(before);
    } finally {
      vi.useRealTimers();
    }
  });
});
