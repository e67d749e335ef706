import type { Adapter, AdapterPayload } from 'oidc-provider';
import { describe, expect, it } from 'vitest';
import { CodeReadAhead } from './code-read-ahead.ts';

/** A store of one record per model and id that counts its reads. */
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
    async findByUid() {
      return undefined;
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
  return { Adapter: CountingAdapter, reads };
}

describe('CodeReadAhead', () => {
  it('answers the provider’s find of the code with the read already made, once', async () => {
    const store = countingStore();
    const codes = new CodeReadAhead(store.Adapter);
    const providerCodes = new codes.Adapter('AuthorizationCode');
    await providerCodes.upsert('c1', { jti: 'c1', dpopJkt: 'k' }, 60);

    const read = codes.read('c1');
    expect(await read.record).toMatchObject({ jti: 'c1', dpopJkt: 'k' });
    expect(await providerCodes.find('c1')).toMatchObject({ jti: 'c1' });
    expect(store.reads).toEqual(['AuthorizationCode:c1']);
    // Taken once: a later find (a replay's revocation, another request) reads the store.
    await providerCodes.destroy('c1');
    expect(await providerCodes.find('c1')).toBeUndefined();
    read.done();
    expect(store.reads).toEqual(['AuthorizationCode:c1', 'AuthorizationCode:c1']);
  });

  it('drops a read the provider did not take, and hands nothing to other models', async () => {
    const store = countingStore();
    const codes = new CodeReadAhead(store.Adapter);
    const providerCodes = new codes.Adapter('AuthorizationCode');
    const sessions = new codes.Adapter('Session');
    await providerCodes.upsert('c2', { jti: 'c2' }, 60);

    const read = codes.read('c2');
    await read.record;
    expect(await sessions.find('c2')).toBeUndefined();
    read.done();
    await providerCodes.destroy('c2');
    expect(await providerCodes.find('c2')).toBeUndefined();
    expect(store.reads).toEqual(['AuthorizationCode:c2', 'Session:c2', 'AuthorizationCode:c2']);
  });
});
