import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AccessTokenVerifier,
  BearerError,
  createAccessTokenVerifier,
  REVOCATION_CHANNEL,
  REVOKED_KEY,
  redisRevocationSource,
} from '../src/index.ts';
import { AUDIENCE, NOW, NOW_SECONDS, startTestIssuer, type TestIssuer } from './issuer-fixture.ts';

let redis: RedisProcess;
let conn: Redis;
let issuer: TestIssuer;
const verifiers: AccessTokenVerifier[] = [];

beforeAll(async () => {
  redis = await startRedis();
  conn = new Redis(redis.url);
  issuer = await startTestIssuer();
});
afterAll(async () => {
  for (const verifier of verifiers) verifier.close();
  conn.disconnect();
  await issuer.close();
  await redis.cleanup();
});

function verifierWithRedis() {
  const verifier = createAccessTokenVerifier({
    issuer: issuer.issuer,
    audience: AUDIENCE,
    // The revocation set is pruned by wall-clock seconds; the token claims use the frozen test clock.
    now: () => NOW,
    revocations: redisRevocationSource(conn, { now: () => NOW }),
  });
  verifiers.push(verifier);
  return verifier;
}

/** What the server does on revocation: record it in the sorted set, then publish it. */
async function revokeAtServer(type: 'grant' | 'jti', id: string): Promise<number> {
  const exp = NOW_SECONDS + 900;
  await conn.zadd(REVOKED_KEY, exp, `${type}:${id}`);
  return conn.publish(REVOCATION_CHANNEL, JSON.stringify({ type, id, exp }));
}

/** Polls until the verifier refuses `token`, returning the observed milliseconds (never asserted). */
async function untilRejected(verifier: AccessTokenVerifier, token: string): Promise<number> {
  const started = performance.now();
  const deadline = started + 20_000;
  for (;;) {
    const error = await verifier.verify(token).then(
      () => undefined,
      (err: unknown) => err,
    );
    if (error instanceof BearerError) {
      expect(error).toMatchObject({ status: 401, code: 'invalid_token', description: 'token revoked' });
      return performance.now() - started;
    }
    if (error !== undefined) throw error;
    if (performance.now() > deadline) throw new Error('token still accepted after 20 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Waits until the verifier's subscriber is listening, so a publish is delivered. */
async function untilSubscribed(): Promise<void> {
  for (;;) {
    const [, count] = (await conn.call('PUBSUB', ['NUMSUB', REVOCATION_CHANNEL])) as [string, number];
    if (count >= verifiers.length) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('revocation through Redis', () => {
  it('rejects a cached token after its grant is revoked and published at the server', async () => {
    const verifier = verifierWithRedis();
    await verifier.ready();
    await untilSubscribed();
    const token = await issuer.mint({ claims: { gid: 'grant-published' } });
    const survivor = await issuer.mint({ claims: { gid: 'grant-kept' } });
    expect((await verifier.verify(token)).sub).toBe('user-1');
    await revokeAtServer('grant', 'grant-published');
    const latency = await untilRejected(verifier, token);
    console.log(`revocation reached the verifier after ${latency.toFixed(1)} ms (target: under 1 s)`);
    expect((await verifier.verify(survivor)).sub).toBe('user-1');
  });

  it('revokes per grant only: a per-token (jti) message is not a revocation', async () => {
    const verifier = verifierWithRedis();
    await verifier.ready();
    await untilSubscribed();
    const token = await issuer.mint({ claims: { jti: 'jti-published', gid: 'grant-after-jti' } });
    await verifier.verify(token);
    await revokeAtServer('jti', 'jti-published');
    // Messages arrive in order: once the grant revocation published after it has taken effect,
    // the jti message has been read, and ignored.
    const other = await issuer.mint({ claims: { gid: 'grant-marker' } });
    await revokeAtServer('grant', 'grant-marker');
    await untilRejected(verifier, other);
    expect((await verifier.verify(token)).sub).toBe('user-1');
  });

  it('loads revocations recorded before it started', async () => {
    await conn.zadd(REVOKED_KEY, NOW_SECONDS + 900, 'grant:grant-before-start');
    // Pruned: its tokens are all expired.
    await conn.zadd(REVOKED_KEY, NOW_SECONDS - 3600, 'grant:grant-long-gone');
    const verifier = verifierWithRedis();
    await expect(
      verifier.verify(await issuer.mint({ claims: { gid: 'grant-before-start' } })),
    ).rejects.toMatchObject({
      status: 401,
      description: 'token revoked',
    });
    expect((await verifier.verify(await issuer.mint({ claims: { gid: 'grant-long-gone' } }))).sub).toBe(
      'user-1',
    );
  });

  it('catches up on a revocation published while its subscriber was disconnected', async () => {
    const verifier = verifierWithRedis();
    await verifier.ready();
    await untilSubscribed();
    const token = await issuer.mint({ claims: { gid: 'grant-missed' } });
    await verifier.verify(token);
    // Atomically: drop every subscriber, then revoke. Nobody hears the PUBLISH.
    const replies = await conn
      .multi()
      .call('CLIENT', ['KILL', 'TYPE', 'pubsub'])
      .zadd(REVOKED_KEY, NOW_SECONDS + 900, 'grant:grant-missed')
      .publish(
        REVOCATION_CHANNEL,
        JSON.stringify({ type: 'grant', id: 'grant-missed', exp: NOW_SECONDS + 900 }),
      )
      .exec();
    expect(replies?.[2]?.[1]).toBe(0);
    const latency = await untilRejected(verifier, token);
    console.log(`missed revocation recovered on reconnect after ${latency.toFixed(1)} ms`);
  });
});
