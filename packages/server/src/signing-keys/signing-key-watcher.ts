import { decryptKeyRecords } from './key-encryption.ts';
import type { KeyRepository } from './key-repository.ts';
import { keySetAt } from './key-set.ts';
import { ensureSigningKeys, lacksRsaKey } from './signing-key-lifecycle.ts';
import { epochSeconds, type SigningAlgorithm, type SigningKeyRecord } from './signing-key-record.ts';

/** The key material a provider instance is built with. */
export interface ActiveKeySet {
  /** Private JWKs, signing keys first: the main key, then the RS256 key. */
  readonly jwks: SigningKeyRecord['jwk'][];
  /** Algorithm of the active main key: what access tokens are signed with, never RS256. */
  readonly signingAlg: SigningAlgorithm;
  /** Changes whenever the published set or the signing key changes. */
  readonly version: string;
}

function toActive(
  records: readonly SigningKeyRecord[],
  now: number,
): ActiveKeySet & { nextChangeAt?: number } {
  const set = keySetAt(records, now);
  const signingAlg = set.signing.alg === 'EdDSA' ? 'EdDSA' : 'ES256';
  return {
    jwks: set.published,
    signingAlg,
    version: set.published.map((jwk) => jwk.kid).join(','),
    ...(set.nextChangeAt !== undefined ? { nextChangeAt: set.nextChangeAt } : {}),
  };
}

/**
 * How often a server instance re-reads the stored keys by default. A rotation must add it to
 * the JWKS cache lifetime: an instance may publish a new key this much later than it was stored.
 */
export const DEFAULT_KEY_POLL_SECONDS = 5;

/**
 * Follows the stored signing keys: `pnpm gatehouse keys rotate` (run anywhere) writes them,
 * every instance picks the change up within `pollSeconds`, and a pre-published key starts
 * signing when its `activateAt` comes.
 */
export class SigningKeyWatcher {
  readonly #repo: KeyRepository;
  readonly #secret: string;
  readonly #onChange: (keys: ActiveKeySet) => void;
  #current: ActiveKeySet & { nextChangeAt?: number };
  #timer: NodeJS.Timeout | undefined;
  /** The stored set the last poll read, and its records: an unchanged set is not decrypted again. */
  #decrypted: { readonly stored: string; readonly records: SigningKeyRecord[] } | undefined;

  private constructor(
    repo: KeyRepository,
    secret: string,
    initial: ActiveKeySet & { nextChangeAt?: number },
    onChange: (keys: ActiveKeySet) => void,
  ) {
    this.#repo = repo;
    this.#secret = secret;
    this.#current = initial;
    this.#onChange = onChange;
  }

  /**
   * Creates the first keys when there are none, or the RS256 keys a stored set lacks (exactly
   * one instance writes), and loads the set.
   */
  static async start(
    repo: KeyRepository,
    secret: string,
    onChange: (keys: ActiveKeySet) => void,
    pollSeconds = DEFAULT_KEY_POLL_SECONDS,
  ): Promise<SigningKeyWatcher> {
    const records = await ensureSigningKeys(repo, secret);
    const watcher = new SigningKeyWatcher(repo, secret, toActive(records, epochSeconds()), onChange);
    watcher.#timer = setInterval(() => {
      watcher.refresh().catch(() => {
        // Redis unreachable: keep signing with the current keys and try again next tick.
      });
    }, pollSeconds * 1000);
    watcher.#timer.unref();
    return watcher;
  }

  get current(): ActiveKeySet {
    return this.#current;
  }

  /** Reloads the stored keys; calls `onChange` when what the provider needs changed. */
  async refresh(now: number = epochSeconds()): Promise<void> {
    // Nearly every poll finds the set it found before: the same records, without parsing,
    // deriving the key-encryption key and decrypting them again every few seconds.
    const stored = await this.#repo.load();
    let records =
      stored === null
        ? []
        : stored === this.#decrypted?.stored
          ? this.#decrypted.records
          : decryptKeyRecords(stored, this.#secret);
    this.#decrypted = stored === null ? undefined : { stored, records };
    // A release without RS256 keys (a rollback, or its CLI) may have rotated and dropped them:
    // add them back rather than leave clients on the OpenID Connect default without a key.
    if (lacksRsaKey(records, now)) records = await ensureSigningKeys(this.#repo, this.#secret, now);
    const next = toActive(records, now);
    if (next.version !== this.#current.version) {
      this.#current = next;
      this.#onChange(next);
    } else {
      this.#current = next;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
