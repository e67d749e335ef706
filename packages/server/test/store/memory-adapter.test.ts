import type { RevocationEvent } from '@gatehouse/resource/revocation-contract';
import { describe, expect, it } from 'vitest';
import { grantSetKey } from '../../src/store/keys.ts';
import {
  createMemoryAdapterClass,
  inspectMemoryKey,
  memoryRevocations,
  memoryRevokedEvents,
  resetMemoryStore,
} from '../../src/store/memory-adapter.ts';
import {
  CONTRACT_ACCESS_TOKEN_TTL,
  CONTRACT_REVOKED_TTL,
  describeAdapterContract,
} from './adapter-contract.ts';

describeAdapterContract('in-process store', async () => {
  resetMemoryStore();
  return {
    Adapter: createMemoryAdapterClass({
      revokedTTL: CONTRACT_REVOKED_TTL,
      accessTokenTTL: CONTRACT_ACCESS_TOKEN_TTL,
    }),
    subscribe: async () => {
      const events: RevocationEvent[] = [];
      const listener = (event: RevocationEvent) => events.push(event);
      memoryRevocations.on('revocation', listener);
      return { events, close: async () => void memoryRevocations.off('revocation', listener) };
    },
    revokedEntries: async () =>
      new Map(memoryRevokedEvents().map((event) => [`grant:${event.id}`, event.exp])),
    ttlMs: async (key) => inspectMemoryKey(key)?.ttlMs ?? -2,
    grantMembers: async (grantId) => inspectMemoryKey(grantSetKey(grantId))?.members ?? [],
    teardown: async () => resetMemoryStore(),
  };
});

describe('in-process store capacity', () => {
  it('keeps every live session, unlike an LRU-bounded store', async () => {
    resetMemoryStore();
    const Adapter = createMemoryAdapterClass({ revokedTTL: 60, accessTokenTTL: 60 });
    const sessions = new Adapter('Session');
    for (let i = 0; i < 5_000; i++) await sessions.upsert(`s${i}`, { jti: `s${i}`, uid: `u${i}` }, 600);
    expect(await sessions.find('s0')).toEqual({ jti: 's0', uid: 'u0' });
    expect(await sessions.findByUid('u0')).toEqual({ jti: 's0', uid: 'u0' });
    resetMemoryStore();
  });
});
