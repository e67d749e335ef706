import type { Adapter, AdapterConstructor, AdapterPayload } from 'oidc-provider';
import type { AccountStore } from '../accounts/account-store.ts';

type Found = AdapterPayload | undefined;

/** One redemption's reads, handed to the provider; {@link GrantSourceReadAhead.read}. */
export interface GrantSourceRead {
  /** The code's (or refresh token's) record. */
  readonly record: Promise<Found>;
  /** The request is over: reads the provider did not take are dropped. */
  done(): void;
}

/** The models whose redemption this reads ahead for. */
export type GrantSourceModel = 'AuthorizationCode' | 'RefreshToken';

const byId = (model: string, id: string) => `${model}\0${id}`;
const byUid = (model: string, uid: string) => `${model}\0uid\0${uid}`;

/**
 * The reads of a code redemption, made ahead of oidc-provider and handed to it. The token
 * policies read the code before the provider runs (its DPoP binding, see
 * `codeBoundToAnotherKey`); the provider's own find of that code, in the same request, is
 * answered with that read. As soon as the record is in, what the provider reads next, one read
 * after another, is read at once, in one round trip: its Grant, the session it is bound to (only
 * for a record that expires with its session), and its account
 * ({@link AccountStore.readAhead}). Give {@link GrantSourceReadAhead.Adapter} to the provider.
 *
 * What the provider gets are snapshots taken a moment earlier, as any read is: single use is
 * still decided by the adapter's atomic `consume()`, so a code redeemed in between is refused
 * there and counted as a replay (the grant revoked), and a token of a grant revoked in between
 * is refused by the grant's tombstone as it is saved. Each read is taken at most once, by the
 * first lookup of its record; a concurrent redemption that finds none reads the store.
 *
 * @example
 * const reads = new GrantSourceReadAhead(store.Adapter, accounts);
 * new Provider(issuer, { adapter: reads.Adapter });
 * const read = reads.read('AuthorizationCode', code);
 * try { if (await refused(await read.record)) return; await next(); } finally { read.done(); }
 */
export class GrantSourceReadAhead {
  /** The adapter class for the provider: the store's, with reads made ahead handed over. */
  readonly Adapter: AdapterConstructor;
  readonly #pending = new Map<string, Promise<Found>>();
  readonly #adapters = new Map<string, Adapter>();
  readonly #Base: AdapterConstructor;
  readonly #accounts: Pick<AccountStore, 'readAhead'>;

  constructor(Base: AdapterConstructor, accounts: Pick<AccountStore, 'readAhead'>) {
    this.#Base = Base;
    this.#accounts = accounts;
    const pending = this.#pending;
    const take = (key: string): Promise<Found> | undefined => {
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

  /** Reads the record of `id`, then what its redemption reads next; the provider takes them. */
  read(model: GrantSourceModel, id: string): GrantSourceRead {
    const made: [key: string, read: Promise<Found>][] = [];
    let dropAccount: (() => void) | undefined;
    let over = false;
    const put = (key: string, read: Promise<unknown>) => {
      const found = read.then((value) => (value ? (value as AdapterPayload) : undefined));
      // Observed at once: a read the provider never takes cannot reject unhandled.
      found.catch(() => {});
      this.#pending.set(key, found);
      made.push([key, found]);
      return found;
    };
    const record = put(byId(model, id), this.#adapter(model).find(id));
    // Runs before the caller's own continuation on `record` (attached first), so these reads are
    // sent in one tick, before the provider asks for any of them.
    record.then(
      (found) => {
        if (!found || over) return;
        const { grantId, sessionUid, accountId, expiresWithSession } = found;
        if (typeof grantId === 'string') put(byId('Grant', grantId), this.#adapter('Grant').find(grantId));
        if (expiresWithSession === true && typeof sessionUid === 'string') {
          put(byUid('Session', sessionUid), this.#adapter('Session').findByUid(sessionUid));
        }
        if (typeof accountId === 'string') dropAccount = this.#accounts.readAhead(accountId);
      },
      () => {},
    );
    return {
      record,
      done: () => {
        over = true;
        for (const [key, read] of made) if (this.#pending.get(key) === read) this.#pending.delete(key);
        dropAccount?.();
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
