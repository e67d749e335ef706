import type { RevocationEvent } from '@gatehouse/resource/revocation-contract';
import { describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/index.ts';
import { grantSetKey } from '../../src/store/keys.ts';
import type { MemoryAdapterClass } from '../../src/store/memory-adapter.ts';
import { CONTRACT_TOKEN_STORE, describeAdapterContract } from './adapter-contract.ts';

describeAdapterContract('in-process store', async () => {
  const store = await createStore({ redis: { kind: 'memory' }, tokenStore: CONTRACT_TOKEN_STORE });
  const Adapter = store.Adapter as MemoryAdapterClass;
  const revocations = store.revocations;
  if (!revocations) throw new Error('the in-process store has its own revocations');
  return {
    Adapter,
    subscribe: async () => {
      const events: RevocationEvent[] = [];
      const unsubscribe = revocations.subscribe((event) => events.push(event));
      return { events, close: async () => void unsubscribe() };
    },
    revokedEntries: async () =>
      new Map((await revocations.list?.())?.map((event) => [`grant:${event.id}`, event.exp]) ?? []),
    ttlMs: async (key) => Adapter.inspect(key)?.ttlMs ?? -2,
    grantMembers: async (grantId) => Adapter.inspect(grantSetKey(grantId))?.members ?? [],
    teardown: () => store.close(),
  };
});

describe('in-process store', () => {
  it('keeps every live session, unlike an LRU-bounded store', async () => {
    const store = await createStore({ redis: { kind: 'memory' }, tokenStore: CONTRACT_TOKEN_STORE });
    const sessions = new store.Adapter('Session');
    for (let i = 0; i < 5_000; i++) await sessions.upsert(`s${i}`, { jti: `s${i}`, uid: `u${i}` }, 600);
    expect(await sessions.find('s0')).toEqual({ jti: 's0', uid: 'u0' });
    expect(await sessions.findByUid('u0')).toEqual({ jti: 's0', uid: 'u0' });
    await store.close();
  });

  it('is one per instance: two stores in one process share no record and no revocation', async () => {
    const one = await createStore({ redis: { kind: 'memory' }, tokenStore: CONTRACT_TOKEN_STORE });
    const other = await createStore({ redis: { kind: 'memory' }, tokenStore: CONTRACT_TOKEN_STORE });
    const heard: RevocationEvent[] = [];
    other.revocations?.subscribe((event) => heard.push(event));
    await new one.Adapter('Grant').upsert('g-1', { jti: 'g-1' }, 60);
    await new one.Adapter('AccessToken').upsert('at-1', { jti: 'at-1', grantId: 'g-1' }, 60);
    expect(await new other.Adapter('AccessToken').find('at-1')).toBeUndefined();

    await new one.Adapter('AccessToken').revokeByGrantId('g-1');
    expect(await one.revocations?.list?.()).toMatchObject([{ type: 'grant', id: 'g-1' }]);
    expect(await other.revocations?.list?.()).toEqual([]);
    expect(heard).toEqual([]);
    await one.accounts.create({
      email: 'one@example.com',
      password: 'Ample-Orbit-Quartz-71',
      emailVerified: true,
    });
    expect(await other.accounts.findByEmail('one@example.com')).toBeUndefined();
    await Promise.all([one.close(), other.close()]);
  });
});
