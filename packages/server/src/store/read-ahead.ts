import { AsyncLocalStorage } from 'node:async_hooks';
import type { Adapter, AdapterConstructor, AdapterPayload } from 'oidc-provider';

export type FoundRecord = AdapterPayload | undefined;

/** The reads one request makes ahead of oidc-provider; {@link ReadAhead.run}. */
export interface RequestReads {
  /** Reads the record now; the provider's next find of it in this request takes this read. */
  find(model: string, id: string): Promise<FoundRecord>;
  /** Reads the record a uid names now; the provider's next findByUid of it in this request takes this read. */
  findByUid(model: string, uid: string): Promise<FoundRecord>;
  /** Keeps another read made ahead (an account) under `key`, for {@link RequestReads.take} in this request. */
  hold(key: string, read: Promise<unknown>): void;
  /** The read kept under `key`, once: later calls (and other requests) get `undefined`. */
  take(key: string): Promise<unknown> | undefined;
  /** True once the request is over: nothing more is read or kept. */
  readonly over: boolean;
}

const byId = (model: string, id: string) => `${model}\0${id}`;
const byUid = (model: string, uid: string) => `${model}\0uid\0${uid}`;

/**
 * The reads of the request whose code runs now. Scoped by {@link ReadAhead.run}: a read made ahead
 * is only ever taken by the request that made it, so what a request sees is what its own reads,
 * made a moment earlier, returned. Never another request's older snapshot: a session deleted, an
 * account disabled before a request began is never served to it from a read made by a request
 * that began earlier.
 */
const current = new AsyncLocalStorage<RequestReads>();

/** The reads of the request running now ({@link ReadAhead.run}), if it reads ahead. */
export const currentReads = (): RequestReads | undefined => current.getStore();

/**
 * Reads made before oidc-provider asks for them, handed to it. A request that knows what the
 * provider will read one after another (a redemption: the code, then its grant, its session,
 * its account) reads them together, in one round trip, and the provider's lookups in that same
 * request take those reads instead of making their own. Give {@link ReadAhead.Adapter} to the
 * provider and run the request's handling in {@link ReadAhead.run}.
 *
 * What the provider gets are the request's own reads taken a moment earlier; whatever must be
 * atomic (consuming a code, admitting a token to its grant) is decided by the writes, as before.
 * A read is taken at most once, by the first lookup of its record in the request; reads nobody
 * took are dropped when the request is over.
 *
 * @example
 * const readAhead = new ReadAhead(store.Adapter);
 * new Provider(issuer, { adapter: readAhead.Adapter });
 * await readAhead.run(async (reads) => { await reads.find('AuthorizationCode', code); await next(); });
 */
export class ReadAhead {
  /** The adapter class for the provider: the store's, with the request's reads made ahead handed over. */
  readonly Adapter: AdapterConstructor;
  readonly #adapters = new Map<string, Adapter>();
  readonly #Base: AdapterConstructor;

  constructor(Base: AdapterConstructor) {
    this.#Base = Base;
    this.Adapter = class extends Base {
      readonly #model: string;

      constructor(model: string) {
        super(model);
        this.#model = model;
      }

      override find(id: string): ReturnType<Adapter['find']> {
        return (
          (current.getStore()?.take(byId(this.#model, id)) as Promise<FoundRecord> | undefined) ??
          super.find(id)
        );
      }

      override findByUid(uid: string): ReturnType<Adapter['findByUid']> {
        return (
          (current.getStore()?.take(byUid(this.#model, uid)) as Promise<FoundRecord> | undefined) ??
          super.findByUid(uid)
        );
      }
    };
  }

  /** Runs one request's handling (`fn`) with reads of its own; what the provider did not take is dropped after it. */
  async run<T>(fn: (reads: RequestReads) => Promise<T>): Promise<T> {
    const pending = new Map<string, Promise<unknown>>();
    let over = false;
    const hold = (key: string, read: Promise<unknown>): void => {
      // Observed at once: a read the provider never takes cannot reject unhandled.
      read.catch(() => {});
      if (!over) pending.set(key, read);
    };
    const put = (key: string, read: Promise<unknown>): Promise<FoundRecord> => {
      const found = read.then((value) => (value ? (value as AdapterPayload) : undefined));
      hold(key, found);
      return found;
    };
    const reads: RequestReads = {
      find: (model, id) => put(byId(model, id), this.#adapter(model).find(id)),
      findByUid: (model, uid) => put(byUid(model, uid), this.#adapter(model).findByUid(uid)),
      hold,
      take: (key) => {
        const read = pending.get(key);
        if (read !== undefined) pending.delete(key);
        return read;
      },
      get over() {
        return over;
      },
    };
    try {
      return await current.run(reads, fn, reads);
    } finally {
      over = true;
      pending.clear();
    }
  }

  #adapter(model: string): Adapter {
    let adapter = this.#adapters.get(model);
    if (adapter === undefined) {
      adapter = new this.#Base(model);
      this.#adapters.set(model, adapter);
    }
    return adapter;
  }
}
