import { randomUUID } from 'node:crypto';
import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { Redis } from 'ioredis';
import type { AdapterPayload } from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenAlreadyConsumedError } from '../../src/store/errors.ts';
import { createStore, type Store } from '../../src/store/index.ts';
import { grantSetKey, recordKey, uidKey } from '../../src/store/keys.ts';
import { CONTRACT_TOKEN_STORE } from './adapter-contract.ts';

/**
 * Releases before the string encoding (record-encoding.ts) stored every record as a hash
 * (`payload`, `consumed`, and `grantId`/`uid`/`userCode` index fields) and grant-set members as
 * whole record keys. A Redis written by such a release must keep working after the upgrade:
 * sessions found, tokens consumed exactly once, grants revoked with every token.
 */
describe('records written by the previous release (hashes)', () => {
  let redis: RedisProcess;
  let raw: Redis;
  let store: Store;
  const now = () => Math.floor(Date.now() / 1000);
  const id = () => randomUUID().replaceAll('-', '');

  /** What the previous release's UPSERT_RECORD wrote. */
  async function writeLegacy(
    model: string,
    key: string,
    payload: AdapterPayload,
    fields: Record<string, string>,
  ) {
    await raw.hset(key, { payload: JSON.stringify(payload), ...fields });
    await raw.expire(key, 600);
    if (fields.grantId) {
      await raw.sadd(grantSetKey(fields.grantId), key);
      await raw.expire(grantSetKey(fields.grantId), 601);
    }
    if (fields.uid) await raw.set(uidKey(fields.uid), String(payload.jti), 'EX', 601);
    expect(model).toBeTruthy();
  }

  beforeAll(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
    store = await createStore({
      redis: { kind: 'standalone', url: redis.url },
      tokenStore: CONTRACT_TOKEN_STORE,
    });
  });
  afterAll(async () => {
    raw?.disconnect();
    await store?.close();
    await redis?.cleanup();
  });

  it('finds sessions by id and uid, and re-saves them in the new encoding', async () => {
    const sessionId = id();
    const uid = id();
    const payload = { iat: now(), exp: now() + 600, uid, accountId: 'a1', kind: 'Session', jti: sessionId };
    await writeLegacy('Session', recordKey('Session', sessionId), payload, { uid });
    const Session = new store.Adapter('Session');

    expect(await Session.find(sessionId)).toEqual(payload);
    expect(await Session.findByUid(uid)).toEqual(payload);

    await Session.upsert(sessionId, { ...payload, loginTs: now() }, 600);
    expect(await raw.type(recordKey('Session', sessionId))).toBe('string');
    expect(await Session.findByUid(uid)).toMatchObject({ ...payload, loginTs: expect.any(Number) });
  });

  it('consumes a refresh token exactly once, and a re-save keeps it consumed', async () => {
    const grantId = id();
    const tokenId = id();
    const payload = {
      iat: now(),
      exp: now() + 600,
      grantId,
      kind: 'RefreshToken',
      jti: tokenId,
      clientId: 'spa',
    };
    await writeLegacy('RefreshToken', recordKey('RefreshToken', tokenId), payload, { grantId });
    const RefreshToken = new store.Adapter('RefreshToken');

    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => RefreshToken.consume(tokenId)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of outcomes.filter((o) => o.status === 'rejected')) {
      expect(outcome.reason).toBeInstanceOf(TokenAlreadyConsumedError);
      expect((outcome.reason as TokenAlreadyConsumedError).grantId).toBe(grantId);
    }
    const consumed = await RefreshToken.find(tokenId);
    expect(consumed).toMatchObject({ ...payload, consumed: expect.any(Number) });

    // A stale copy (read before the consume) saved again: still consumed, now a string.
    await RefreshToken.upsert(tokenId, payload, 600);
    expect(await raw.type(recordKey('RefreshToken', tokenId))).toBe('string');
    expect((await RefreshToken.find(tokenId))?.consumed).toBe(consumed?.consumed);
    await expect(RefreshToken.consume(tokenId)).rejects.toBeInstanceOf(TokenAlreadyConsumedError);
  });

  it('revokes a grant with its tokens of both encodings', async () => {
    const grantId = id();
    const before = id();
    const after = id();
    const token = (jti: string) => ({
      iat: now(),
      exp: now() + 600,
      grantId,
      kind: 'RefreshToken',
      jti,
      clientId: 'spa',
    });
    await writeLegacy(
      'Grant',
      recordKey('Grant', grantId),
      { iat: now(), exp: now() + 600, kind: 'Grant', jti: grantId },
      {},
    );
    await writeLegacy('RefreshToken', recordKey('RefreshToken', before), token(before), { grantId });
    const RefreshToken = new store.Adapter('RefreshToken');
    await RefreshToken.upsert(after, token(after), 600);
    expect(await RefreshToken.find(before)).toEqual(token(before));
    expect(await RefreshToken.find(after)).toEqual(token(after));

    await RefreshToken.revokeByGrantId(grantId);
    expect(await RefreshToken.find(before)).toBeUndefined();
    expect(await RefreshToken.find(after)).toBeUndefined();
    expect(await new store.Adapter('Grant').find(grantId)).toBeUndefined();
    expect(await raw.exists(grantSetKey(grantId))).toBe(0);
  });

  it('destroys a legacy record with its uid index', async () => {
    const sessionId = id();
    const uid = id();
    const payload = { iat: now(), exp: now() + 600, uid, kind: 'Session', jti: sessionId };
    await writeLegacy('Session', recordKey('Session', sessionId), payload, { uid });
    const Session = new store.Adapter('Session');
    await Session.destroy(sessionId);
    expect(await Session.find(sessionId)).toBeUndefined();
    // The pointer's deletion is sent by destroy(), not awaited: this lookup on the store's
    // connection runs after it.
    expect(await Session.findByUid(uid)).toBeUndefined();
    expect(await raw.exists(uidKey(uid))).toBe(0);
  });
});
