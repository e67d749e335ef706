import { readStoredRecord } from '@gatehouse/server/internal/store';
import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { REDIRECT_URI } from '@gatehouse/testkit/clients';
import { postForm } from '@gatehouse/testkit/forms';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { signInSpa } from '@gatehouse/testkit/sign-in';
import { Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pollUntil } from '../support/measure.ts';

type ModelAdapter = InstanceType<StartedGatehouse['server']['store']['Adapter']> & { readonly model: string };

/**
 * Fault injection at the one moment that matters: the adapter's `consume()` of a one-time
 * token has succeeded in Redis, and the fault strikes before oidc-provider saves what the
 * redemption issues (the successor refresh token). The adapter and Redis are the real ones;
 * only the moment is chosen by the test.
 */
function injectAfterConsume(gh: StartedGatehouse) {
  const proto = gh.server.store.Adapter.prototype as ModelAdapter;
  const original = proto.consume;
  let pending: { model: string; fault: () => Promise<void> } | undefined;
  proto.consume = async function consumeThenFault(this: ModelAdapter, id: string) {
    await original.call(this, id);
    const armed = pending;
    if (armed && armed.model === this.model) {
      pending = undefined;
      await armed.fault();
    }
  };
  return {
    arm(model: string, fault: () => Promise<void>) {
      pending = { model, fault };
    },
    restore() {
      proto.consume = original;
    },
  };
}

interface RecordState {
  readonly key: string;
  readonly grantId: string | null;
  readonly consumed: string | null;
}

describe('a failure between consuming a one-time token and saving what it issues', () => {
  let redis: RedisProcess;
  let gh: StartedGatehouse;
  let inspect: Redis;
  let faults: ReturnType<typeof injectAfterConsume>;
  const unexpected: unknown[] = [];

  beforeAll(async () => {
    // fsync on every write: a SIGKILL of Redis keeps every acknowledged write (the consume).
    redis = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    gh = await startGatehouse({
      redis,
      gatehouse: {
        onError: (err) => {
          // While Redis is killed, each failed reconnect of the store's connection is reported
          // (ECONNREFUSED on connect): expected here, and how many depends on timing alone.
          const refused = (err as { syscall?: unknown; code?: unknown } | undefined) ?? {};
          if (refused.syscall === 'connect' && refused.code === 'ECONNREFUSED') return;
          unexpected.push(err);
        },
      },
    });
    faults = injectAfterConsume(gh);
  });
  beforeEach(() => {
    inspect = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    unexpected.length = 0;
  });
  afterEach(async () => {
    inspect.disconnect();
    // Whatever a test did to Redis, the next one starts with it up and Gatehouse ready.
    await pollUntil(async () => (await fetch(`${gh.issuer}/readyz`)).status === 200, 20_000);
  });
  afterAll(async () => {
    faults?.restore();
    await gh?.stop();
    await redis?.cleanup();
  });

  /** Signs in as `account` (in-process server as its own interaction driver). */
  async function signIn(account: string) {
    const { token } = await signInSpa(gh.server, { account });
    if (token?.status !== 200) throw new Error(`sign-in failed: ${JSON.stringify(token?.body)}`);
    return { accessToken: String(token.body.access_token), refreshToken: String(token.body.refresh_token) };
  }

  const refresh = (refreshToken: string) =>
    postForm(`${gh.issuer}/token`, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: 'spa',
    });

  /** Every stored refresh token of `grantId`, read straight from Redis. */
  async function refreshTokensOf(grantId: string): Promise<RecordState[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await inspect.scan(cursor, 'MATCH', 'gatehouse:RefreshToken:*', 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    const states = await Promise.all(
      keys.map(async (key) => {
        const record = await readStoredRecord(inspect, key);
        const grant = typeof record?.grantId === 'string' ? record.grantId : null;
        const consumed = typeof record?.consumed === 'number' ? String(record.consumed) : null;
        return { key, grantId: grant, consumed };
      }),
    );
    return states.filter((s) => s.grantId === grantId);
  }

  async function expectGrantGone(grantId: string, accessToken: string) {
    // No half-written grant: the Grant record is gone, its member set deleted, a tombstone
    // refuses late writes, and no refresh token of it is left in Redis.
    expect(await inspect.exists(`gatehouse:Grant:{${grantId}}`)).toBe(0);
    expect(await inspect.exists(`gatehouse:grant-tokens:{${grantId}}`)).toBe(0);
    expect(await inspect.exists(`gatehouse:grant-revoked:{${grantId}}`)).toBe(1);
    expect(await refreshTokensOf(grantId)).toEqual([]);
    // The access token issued before is dead as well (RFC 7662 introspection by its client).
    const introspection = await postForm(`${gh.issuer}/introspect`, { token: accessToken, client_id: 'spa' });
    expect(introspection.status).toBe(200);
    expect(introspection.body.active).toBe(false);
  }

  it('Redis killed (SIGKILL) right after a refresh token is consumed: 503, then the retry is invalid_grant and the family is gone', async () => {
    const { accessToken, refreshToken } = await signIn('atomic-kill');
    const grantId = String(decodeJwt(accessToken).gid);

    faults.arm('RefreshToken', () => redis.kill());
    const failed = await refresh(refreshToken);
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(failed.body.error).toBe('temporarily_unavailable');
    expect(failed.body.refresh_token).toBeUndefined();

    await redis.restart();
    expect(await pollUntil(async () => (await fetch(`${gh.issuer}/readyz`)).status === 200, 20_000)).toBe(
      true,
    );
    inspect.disconnect();
    inspect = new Redis(redis.url, { maxRetriesPerRequest: 1 });

    // At the moment of failure: the presented token is consumed and no successor exists, so
    // no working token pair is left behind.
    const stored = await refreshTokensOf(grantId);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.consumed).not.toBeNull();

    // The client retries: a clear invalid_grant (never a 500), and the family is revoked as for
    // any replay (RFC 9700 §4.14.2: the server cannot tell this retry from a stolen token).
    const retry = await refresh(refreshToken);
    expect(retry.status).toBe(400);
    expect(retry.body.error).toBe('invalid_grant');
    await expectGrantGone(grantId, accessToken);
    expect(unexpected).toEqual([]);
  });

  it('Redis paused for writes (CLIENT PAUSE WRITE) right after the consume: the successor write times out, 503, the retry is invalid_grant', async () => {
    const { accessToken, refreshToken } = await signIn('atomic-pause');
    const grantId = String(decodeJwt(accessToken).gid);

    // Longer than the server's 1 s command timeout; the paused commands run after it.
    faults.arm('RefreshToken', async () => {
      await inspect.call('CLIENT', 'PAUSE', '1500', 'WRITE');
    });
    const failed = await refresh(refreshToken);
    expect(failed.status).toBe(503);
    expect(failed.body.error).toBe('temporarily_unavailable');
    expect(failed.body.refresh_token).toBeUndefined();
    // Let the paused commands run (the server has given up on them already).
    await new Promise((r) => setTimeout(r, 1_600));

    // Whatever the paused commands did, nothing usable exists: the presented token is
    // consumed, and a successor (if its write went through late) was never handed out.
    const stored = await refreshTokensOf(grantId);
    expect(stored.find((s) => s.consumed !== null)).toBeDefined();

    const retry = await refresh(refreshToken);
    expect(retry.status).toBe(400);
    expect(retry.body.error).toBe('invalid_grant');
    await expectGrantGone(grantId, accessToken);
    expect(unexpected).toEqual([]);
  });

  it('Redis killed right after an authorization code is consumed: 503, then the retried redemption is invalid_grant and nothing of the grant works', async () => {
    const { callback, verifier } = await signInSpa(gh.server, { account: 'atomic-code', redeem: false });
    const code = String(callback.searchParams.get('code'));
    const redeem = () =>
      postForm(`${gh.issuer}/token`, {
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT_URI,
        client_id: 'spa',
      });
    const record = await readStoredRecord(inspect, `gatehouse:AuthorizationCode:{${code}}`);
    const grantId = String(record?.grantId);

    faults.arm('AuthorizationCode', () => redis.kill());
    const failed = await redeem();
    expect(failed.status).toBe(503);
    expect(failed.body.error).toBe('temporarily_unavailable');
    expect(failed.body.access_token).toBeUndefined();

    await redis.restart();
    expect(await pollUntil(async () => (await fetch(`${gh.issuer}/readyz`)).status === 200, 20_000)).toBe(
      true,
    );
    inspect.disconnect();
    inspect = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    expect(await refreshTokensOf(grantId)).toEqual([]);

    const retry = await redeem();
    expect(retry.status).toBe(400);
    expect(retry.body.error).toBe('invalid_grant');
    // RFC 6749 §4.1.2: a code used twice revokes its grant.
    expect(await inspect.exists(`gatehouse:Grant:{${grantId}}`)).toBe(0);
    expect(await refreshTokensOf(grantId)).toEqual([]);
    expect(unexpected).toEqual([]);
  });
});
