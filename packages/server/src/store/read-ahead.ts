import type { Adapter, AdapterConstructor, AdapterPayload } from 'oidc-provider';

export type FoundRecord = AdapterPayload | undefined;

/** The reads one request makes ahead of oidc-provider; {@link ReadAhead.begin}. */
export interface RequestReads {
  /** Reads the record now; the provider's next find of it takes this read. */
  find(model: string, id: string): Promise<FoundRecord>;
  /** Reads the record a uid names now; the provider's next findByUid of it takes this read. */
  findByUid(model: string, uid: string): Promise<FoundRecord>;
  /** Something else read ahead for this request (an account): dropped with the rest. */
  alsoDrop(drop: () => void): void;
  /** The request is over: what the provider did not take is dropped, and nothing more is read. */
  done(): void;
  /** True once {@link done} was called. */
  readonly over: boolean;
}

const byId = (model: string, id: string) => `${model}\0${id}`;
const byUid = (model: string, uid: string) => `${model}\0uid\0${uid}`;

/**
 * Reads made before oidc-provider asks for them, handed to it. A request that knows what the
 * provider will read one after another (a redemption: the code, then its grant, its session,
 * its account) reads them together, in one round trip, and the provider's lookups take those
 * reads instead of making their own. Give {@link ReadAhead.Adapter} to the provider.
 *
 * What the provider gets are snapshots taken a moment earlier, as any read is; whatever must be
 * atomic (consuming a code, admitting a token to its grant) is decided by the writes, as before.
 * A read is taken at most once, by the first lookup of its record through this class; a
 * concurrent request that finds none reads the store. Reads nobody took are dropped when their
 * request is over.
 *
 * @example
 * const readAhead = new ReadAhead(store.Adapter);
 * new Provider(issuer, { adapter: readAhead.Adapter });
 * const reads = readAhead.begin();
 * try { await reads.find('AuthorizationCode', code); await next(); } finally { reads.done(); }
 */
export class ReadAhead {
  /** The adapter class for the provider: the store's, with reads made ahead handed over. */
  readonly Adapter: AdapterConstructor;
  readonly #pending = new Map<string, Promise<FoundRecord>>();
  readonly #adapters = new Map<string, Adapter>();
  readonly #Base: AdapterConstructor;

  constructor(Base: AdapterConstructor) {
    this.#Base = Base;
    const pending = this.#pending;
    const take = (key: string): Promise<FoundRecord> | undefined => {
      const read = pending.get(key);
      if (read !== undefined) pending.delete(key);
      return read;
    };
    this.Adapter = class extends Base {
      readonly #model: string;

      constructor(model: string) {
        super(model);
        this.#model = model;
      }

      override find(id: string): ReturnType<Adapter['find']> {
        return take(byId(this.#model, id)) ?? super.find(id);
      }

      override findByUid(uid: string): ReturnType<Adapter['findByUid']> {
        return take(byUid(this.#model, uid)) ?? super.findByUid(uid);
      }
    };
  }

  /** Starts the reads of one request; call `done()` when it is over. */
  begin(): RequestReads {
    const pending = this.#pending;
    const made: [key: string, read: Promise<FoundRecord>][] = [];
    const drops: (() => void)[] = [];
    let over = false;
    const put = (key: string, read: Promise<unknown>): Promise<FoundRecord> => {
      const found = read.then((value) => (value ? (value as AdapterPayload) : undefined));
      // Observed at once: a read the provider never takes cannot reject unhandled.
      found.catch(() => {});
      if (!over) {
        pending.set(key, found);
        made.push([key, found]);
      }
      return found;
    };
    return {
      find: (model, id) => put(byId(model, id), this.#adapter(model).find(id)),
      findByUid: (model, uid) => put(byUid(model, uid), this.#adapter(model).findByUid(uid)),
      alsoDrop: (drop) => {
        if (over) drop();
        else drops.push(drop);
      },
      done: () => {
        over = true;
        for (const [key, read] of made) if (pending.get(key) === read) pending.delete(key);
        for (const drop of drops) drop();
      },
      get over() {
        return over;
      },
    };
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
