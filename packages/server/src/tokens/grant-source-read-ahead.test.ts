import type { Adapter, AdapterPayload } from 'oidc-provider';
import { describe, expect, it } from 'vitest';
import { ReadAhead } from '../store/read-ahead.ts';
import { readGrantSourceAhead } from './grant-source-read-ahead.ts';

/** A store of records by model and id (and sessions by uid) that logs its reads. */
function countingStore() {
  const records = new Map<string, AdapterPayload>();
  const reads: string[] = [];
  class CountingAdapter implements Adapter {
    readonly #model: string;
    constructor(model: string) {
      this.#model = model;
    }
    async upsert(id: string, payload: AdapterPayload) {
      records.set(`${this.#model}:${id}`, payload);
    }
    async find(id: string) {
      reads.push(`${this.#model}:${id}`);
      return records.get(`${this.#model}:${id}`);
    }
    async findByUid(uid: string) {
      reads.push(`${this.#model}:uid:${uid}`);
      return [...records.values()].find((r) => r.kind === this.#model && r.uid === uid);
    }
    async findByUserCode() {
      return undefined;
    }
    async consume() {}
    async destroy(id: string) {
      records.delete(`${this.#model}:${id}`);
    }
    async revokeByGrantId() {}
  }
  const accountReads: string[] = [];
  const accounts = {
    readAhead(id: string) {
      accountReads.push(id);
    },
  };
  return { Adapter: CountingAdapter, reads, accounts, accountReads };
}

describe('readGrantSourceAhead', () => {
  it('hands the provider the code and, read together after it, its grant, session and account, once', async () => {
    const store = countingStore();
    const readAhead = new ReadAhead(store.Adapter);
    const codes = new readAhead.Adapter('AuthorizationCode');
    const grants = new readAhead.Adapter('Grant');
    const sessions = new readAhead.Adapter('Session');
    await codes.upsert(
      'c1',
      { jti: 'c1', grantId: 'g1', sessionUid: 'u1', expiresWithSession: true, accountId: 'a1', dpopJkt: 'k' },
      60,
    );
    await grants.upsert('g1', { jti: 'g1' }, 60);
    await sessions.upsert('s1', { jti: 's1', uid: 'u1', kind: 'Session' }, 60);

    await readAhead.run(async (reads) => {
      expect(await readGrantSourceAhead(reads, store.accounts, 'AuthorizationCode', 'c1')).toMatchObject({
        jti: 'c1',
        dpopJkt: 'k',
      });
      expect(store.reads).toEqual(['AuthorizationCode:c1', 'Grant:g1', 'Session:uid:u1']);
      expect(store.accountReads).toEqual(['a1']);
      expect(await codes.find('c1')).toMatchObject({ jti: 'c1' });
      expect(await grants.find('g1')).toMatchObject({ jti: 'g1' });
      expect(await sessions.findByUid('u1')).toMatchObject({ jti: 's1' });
      expect(store.reads).toHaveLength(3);
      // Taken once: a later lookup in the request (a replay's revocation) reads the store.
      expect(await codes.find('c1')).toMatchObject({ jti: 'c1' });
      expect(store.reads).toHaveLength(4);
    });
  });

  it('drops what the provider did not take, and reads no session for a record not bound to one', async () => {
    const store = countingStore();
    const readAhead = new ReadAhead(store.Adapter);
    const codes = new readAhead.Adapter('AuthorizationCode');
    const grants = new readAhead.Adapter('Grant');
    await codes.upsert('c2', { jti: 'c2', grantId: 'g2', sessionUid: 'u2', accountId: 'a2' }, 60);

    await readAhead.run(async (reads) => {
      await readGrantSourceAhead(reads, store.accounts, 'AuthorizationCode', 'c2');
      expect(store.reads).toEqual(['AuthorizationCode:c2', 'Grant:g2']);
    });
    await codes.destroy('c2');
    expect(await codes.find('c2')).toBeUndefined();
    expect(await grants.find('g2')).toBeUndefined();
    expect(store.reads).toEqual(['AuthorizationCode:c2', 'Grant:g2', 'AuthorizationCode:c2', 'Grant:g2']);
  });

  it("another request never takes a request's read: it reads the store, and sees a deletion made after that read", async () => {
    const store = countingStore();
    const readAhead = new ReadAhead(store.Adapter);
    const codes = new readAhead.Adapter('AuthorizationCode');
    const sessions = new readAhead.Adapter('Session');
    await codes.upsert('c3', { jti: 'c3', grantId: 'g3', sessionUid: 'u3', expiresWithSession: true }, 60);
    await sessions.upsert('s3', { jti: 's3', uid: 'u3', kind: 'Session' }, 60);

    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Request one reads the code, its grant and its session ahead, then waits before its provider runs.
    const first = readAhead.run(async (reads) => {
      await readGrantSourceAhead(reads, store.accounts, 'AuthorizationCode', 'c3');
      await held;
      return sessions.findByUid('u3');
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(store.reads).toEqual(['AuthorizationCode:c3', 'Grant:g3', 'Session:uid:u3']);
    // Meanwhile the session is deleted (a sign-out), and then another request looks it up.
    await sessions.destroy('s3');
    expect(await readAhead.run(async () => sessions.findByUid('u3'))).toBeUndefined();
    expect(await sessions.findByUid('u3')).toBeUndefined();
    expect(store.reads).toHaveLength(5);
    // Request one still gets its own read, made before the deletion, as its provider would have.
    release();
    expect(await first).toMatchObject({ jti: 's3' });
    expect(store.reads).toHaveLength(5);
  });
});
