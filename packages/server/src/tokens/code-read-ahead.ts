import type { Adapter, AdapterConstructor, AdapterPayload } from 'oidc-provider';

/** One redemption's read of its code, handed to the provider; {@link CodeReadAhead.read}. */
export interface CodeRead {
  readonly record: Promise<AdapterPayload | undefined>;
  /** The request is over: a read the provider did not take is dropped. */
  done(): void;
}

/**
 * The authorization code read once per redemption instead of twice: the token policies read the
 * code before the provider runs (its DPoP binding, see `codeBoundToAnotherKey`), and the
 * provider's own `AuthorizationCode.find` of that code, in the same request, is answered with
 * that read. Give {@link CodeReadAhead.Adapter} to the provider.
 *
 * What the provider gets is a snapshot taken a moment earlier, as any read is: single use is
 * still decided by the adapter's atomic `consume()`, so a code redeemed in between is refused
 * there and counted as a replay (the grant revoked), as when the provider reads it itself. A
 * read is taken at most once, by the first find of its code; a concurrent redemption of the
 * same code that finds none reads the store.
 *
 * @example
 * const codes = new CodeReadAhead(store.Adapter);
 * new Provider(issuer, { adapter: codes.Adapter });
 * const read = codes.read(code);
 * try { if (await refused(await read.record)) return; await next(); } finally { read.done(); }
 */
export class CodeReadAhead {
  /** The adapter class for the provider: the store's, with code reads handed over. */
  readonly Adapter: AdapterConstructor;
  readonly #pending = new Map<string, Promise<AdapterPayload | undefined>>();
  readonly #codes: Adapter;

  constructor(Base: AdapterConstructor) {
    const pending = this.#pending;
    this.#codes = new Base('AuthorizationCode');
    this.Adapter = class extends Base {
      readonly #handsOver: boolean;

      constructor(model: string) {
        super(model);
        this.#handsOver = model === 'AuthorizationCode';
      }

      override find(id: string): ReturnType<Adapter['find']> {
        const read = this.#handsOver ? pending.get(id) : undefined;
        if (read === undefined) return super.find(id);
        pending.delete(id);
        return read;
      }
    };
  }

  /** Reads the code's record; the provider's next find of this code takes the same read. */
  read(code: string): CodeRead {
    const record = this.#codes.find(code).then((found) => found ?? undefined);
    // Observed here too, so a read the provider never takes cannot reject unhandled.
    record.catch(() => {});
    this.#pending.set(code, record);
    return {
      record,
      done: () => {
        if (this.#pending.get(code) === record) this.#pending.delete(code);
      },
    };
  }
}
