import { randomUUID } from 'node:crypto';
import { startRedis } from '@gatehouse/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, type Store } from '../../src/store/index.ts';
import { recordKey, uidKey } from '../../src/store/keys.ts';
import { CONTRACT_TOKEN_STORE, describeAdapterContract } from './adapter-contract.ts';
import { redisContractTarget } from './redis-target.ts';

describeAdapterContract('standalone Redis', async () => {
  const redis = await startRedis();
  return redisContractTarget({ kind: 'standalone', url: redis.url }, () => redis.cleanup());
});

describe('sessions on a standalone Redis', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let store: Store;
  let conn: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    store = await createStore({
      redis: { kind: 'standalone', url: redis.url },
      tokenStore: CONTRACT_TOKEN_STORE,
    });
    conn = store.connection as Redis;
  });
  afterAll(async () => {
    await store?.close();
    await redis?.cleanup();
  });

  /** Requests written to Redis while `body` runs (a pipeline is one). */
  async function writesDuring(body: () => Promise<void>): Promise<number> {
    const socket = conn.stream;
    const write = socket.write;
    let writes = 0;
    socket.write = function (this: typeof socket, ...args: Parameters<typeof socket.write>) {
      writes++;
      return write.apply(this, args);
    } as typeof socket.write;
    try {
      await body();
    } finally {
      socket.write = write;
    }
    return writes;
  }

  it('writes a session and its uid in one round trip, the uid living a little longer', async () => {
    const sessions = new store.Adapter('Session');
    const id = randomUUID();
    const uid = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const payload = { iat: now, exp: now + 600, jti: id, uid, kind: 'Session' };
    await sessions.upsert(id, payload, 600); // loads the script
    expect(await writesDuring(() => sessions.upsert(id, payload, 600))).toBe(1);
    expect((await sessions.findByUid(uid))?.jti).toBe(id);
    expect(await conn.ttl(uidKey(uid))).toBeGreaterThan(await conn.ttl(recordKey('Session', id)));
  });

  it('moves a uid to a session’s new id in two round trips: the old record, then the rest together', async () => {
    const sessions = new store.Adapter('Session');
    const [oldId, newId, uid] = [randomUUID(), randomUUID(), randomUUID()];
    const now = Math.floor(Date.now() / 1000);
    // Once unmeasured, so that every script it runs is loaded.
    const warm = [randomUUID(), randomUUID()] as const;
    await sessions.upsert(warm[0], { iat: now, exp: now + 600, jti: warm[0], uid, kind: 'Session' }, 600);
    await sessions.destroy(warm[0]);
    await sessions.upsert(oldId, { iat: now, exp: now + 600, jti: oldId, uid, kind: 'Session' }, 600);
    // Session.resetIdentifier() on sign-in, as oidc-provider's Session.save() runs it.
    const writes = await writesDuring(async () => {
      await sessions.destroy(oldId);
      await sessions.upsert(newId, { iat: now, exp: now + 600, jti: newId, uid, kind: 'Session' }, 600);
    });
    expect(writes).toBe(2);
    expect((await sessions.findByUid(uid))?.jti).toBe(newId);
    expect(await sessions.find(oldId)).toBeUndefined();
  });

  it('answers no session for the uid of a destroyed one, right after destroy()', async () => {
    const sessions = new store.Adapter('Session');
    const [id, uid] = [randomUUID(), randomUUID()];
    const now = Math.floor(Date.now() / 1000);
    await sessions.upsert(id, { iat: now, exp: now + 600, jti: id, uid, kind: 'Session' }, 600);
    await sessions.destroy(id);
    expect(await sessions.findByUid(uid)).toBeUndefined();
    expect(await conn.exists(uidKey(uid))).toBe(0);
  });

  it('finds a session by uid when its write had to load the script again (NOSCRIPT)', async () => {
    const sessions = new store.Adapter('Session');
    const [oldId, newId, uid] = [randomUUID(), randomUUID(), randomUUID()];
    const now = Math.floor(Date.now() / 1000);
    await sessions.upsert(oldId, { iat: now, exp: now + 600, jti: oldId, uid, kind: 'Session' }, 600);
    await conn.script('FLUSH');
    // Session.resetIdentifier() on sign-in: the old id goes, the uid moves to the new one.
    await sessions.destroy(oldId);
    await sessions.upsert(newId, { iat: now, exp: now + 600, jti: newId, uid, kind: 'Session' }, 600);
    expect((await sessions.findByUid(uid))?.jti).toBe(newId);
    expect(await sessions.find(oldId)).toBeUndefined();
  });

  it('deletes an interaction in the round trip of the next command, which no longer finds it', async () => {
    const interactions = new store.Adapter('Interaction');
    const id = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    await interactions.upsert(id, { iat: now, exp: now + 600, jti: id, kind: 'Interaction' }, 600);
    let found: unknown = 'not read';
    const writes = await writesDuring(async () => {
      await interactions.destroy(id);
      found = await interactions.find(id);
    });
    expect(writes).toBe(1);
    expect(found).toBeUndefined();
    expect(await conn.exists(recordKey('Interaction', id))).toBe(0);
  });

  it('finds a session by uid in one round trip, and only the one the uid names now', async () => {
    // Another instance of the server: its own connection and its own idea of where uids point.
    const other = await createStore({
      redis: { kind: 'standalone', url: redis.url },
      tokenStore: CONTRACT_TOKEN_STORE,
    });
    try {
      const here = new store.Adapter('Session');
      const there = new other.Adapter('Session');
      const [first, second, uid] = [randomUUID(), randomUUID(), randomUUID()];
      const now = Math.floor(Date.now() / 1000);
      const session = (jti: string) => ({ iat: now, exp: now + 600, jti, uid, kind: 'Session' });
      await here.upsert(first, session(first), 600);
      let found: unknown;
      expect(
        await writesDuring(async () => {
          found = (await here.findByUid(uid))?.jti;
        }),
      ).toBe(1);
      expect(found).toBe(first);

      // The uid moves to another session elsewhere while the first one still exists: never the first.
      await there.upsert(second, session(second), 600);
      expect((await here.findByUid(uid))?.jti).toBe(second);
      expect(
        await writesDuring(async () => {
          found = (await here.findByUid(uid))?.jti;
        }),
      ).toBe(1);
      expect(found).toBe(second);

      // The uid's session ends elsewhere (the first one still exists): no session.
      await there.destroy(second);
      expect(await here.findByUid(uid)).toBeUndefined();
      expect(await here.find(first)).toBeDefined();
    } finally {
      await other.close();
    }
  });
});
