import { generateRsaSigningKey, generateSigningKey } from './generate-signing-key.ts';
import { decryptKeyRecords, encryptKeyRecords } from './key-encryption.ts';
import type { KeyRepository } from './key-repository.ts';
import { activeKeyAt } from './key-set.ts';
import { SigningKeyError } from './signing-key-error.ts';
import { epochSeconds, type SigningAlgorithm, type SigningKeyRecord } from './signing-key-record.ts';

/** How many times a compare-and-set update re-reads after another instance wrote first. */
const MAX_ATTEMPTS = 8;

/**
 * Reads, changes and writes the key set with compare-and-set, re-reading when another
 * instance wrote in between. `change` returns `undefined` to write nothing.
 */
async function updateKeyRecords(
  repo: KeyRepository,
  secret: string,
  change: (records: SigningKeyRecord[]) => Promise<SigningKeyRecord[] | undefined>,
): Promise<SigningKeyRecord[]> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const stored = await repo.load();
    // A stored value that does not decrypt throws here, before anything is generated:
    // a wrong secret must never replace the keys that signed the tokens in circulation.
    const records = stored === null ? [] : decryptKeyRecords(stored, secret);
    const next = await change(records);
    if (next === undefined) return records;
    if (await repo.save(encryptKeyRecords(next, secret), stored)) return next;
  }
  throw new SigningKeyError(
    'contended',
    `the signing keys changed ${MAX_ATTEMPTS} times while updating them`,
  );
}

/**
 * The decrypted key records, oldest first as stored; `[]` when none exist yet.
 *
 * @example
 * const { published } = keySetAt(await loadKeys(repo, secret), epochSeconds());
 */
export async function loadKeys(repo: KeyRepository, secret: string): Promise<SigningKeyRecord[]> {
  const stored = await repo.load();
  return stored === null ? [] : decryptKeyRecords(stored, secret);
}

/**
 * The generations that sign now or will: the active one and any pending one. Retiring ones
 * only verify tokens signed before they were superseded, never with RS256 if they lack it.
 */
function stillSigning(records: readonly SigningKeyRecord[], now: number): SigningKeyRecord[] {
  const active = activeKeyAt(records, now);
  return records.filter((record) => record === active || record.retireAt === undefined);
}

/**
 * Whether a generation that signs now or will has no RS256 key: the key set was stored by a
 * release before RS256 keys (or rotated by one since), and {@link ensureSigningKeys} adds them.
 *
 * @example
 * if (lacksRsaKey(await loadKeys(repo, secret), epochSeconds())) await ensureSigningKeys(repo, secret);
 */
export function lacksRsaKey(records: readonly SigningKeyRecord[], now: number): boolean {
  return stillSigning(records, now).some((record) => record.rsa === undefined);
}

/**
 * Creates the first generation of keys, active at once, when there is none, and gives every
 * generation that signs now or will an RS256 key when it lacks one; otherwise returns the stored
 * keys unchanged. Safe to call from every instance at start: compare-and-set lets exactly one of
 * them write.
 *
 * An RS256 key added to a stored generation is published and signs at once, without
 * pre-publication: that generation never signed RS256 before, so nothing can be left
 * unverifiable, and a relying party's cached JWKS lacks the key for at most `JWKS_MAX_AGE`
 * (JWKS clients such as jose's refetch on an unknown `kid` sooner).
 *
 * @example
 * const records = await ensureSigningKeys(repo, config.secret);
 */
export function ensureSigningKeys(
  repo: KeyRepository,
  secret: string,
  now: number = epochSeconds(),
  alg: SigningAlgorithm = 'ES256',
): Promise<SigningKeyRecord[]> {
  return updateKeyRecords(repo, secret, async (records) => {
    if (records.length === 0) return [await generateSigningKey(alg, { now, activateAt: now })];
    if (!lacksRsaKey(records, now)) return undefined;
    const upgrade = new Set(stillSigning(records, now).filter((record) => record.rsa === undefined));
    return Promise.all(
      records.map(async (record) =>
        upgrade.has(record) ? { ...record, rsa: await generateRsaSigningKey() } : record,
      ),
    );
  });
}

export interface RotationOptions {
  /** Epoch seconds; defaults to the clock. */
  readonly now?: number;
  /**
   * Seconds between publishing the new key and signing with it: at least how long a verifier
   * may cache the JWKS (`Cache-Control: max-age`), plus however long a server instance may
   * take to reload the keys, so every cached JWKS holds the key before any token it signed.
   */
  readonly jwksMaxAge: number;
  /**
   * The longest lifetime of anything signed with these keys (access tokens of every resource,
   * ID tokens, logout tokens): how long the previous key stays published after it stops signing.
   */
  readonly accessTokenTTL: number;
  /** Algorithm of the new main key; defaults to the active key's, else ES256. Always with an RS256 key. */
  readonly alg?: SigningAlgorithm;
}

export interface RotationResult {
  /** The generation just added, RS256 key included (published now, signing from its `activateAt`). */
  readonly added: SigningKeyRecord;
  /** Every stored key after the rotation. */
  readonly records: SigningKeyRecord[];
}

/**
 * Adds a new generation (a main key and an RS256 key), published now and signing from
 * `now + jwksMaxAge` (pre-publication), sets
 * `retireAt = activateAt + accessTokenTTL` on the keys it supersedes, so a token signed just
 * before the switch still verifies until it expires, and prunes keys past their `retireAt`.
 *
 * @example
 * const { added } = await rotateSigningKey(repo, secret, { jwksMaxAge: 300, accessTokenTTL: 3600 });
 */
export async function rotateSigningKey(
  repo: KeyRepository,
  secret: string,
  options: RotationOptions,
): Promise<RotationResult> {
  const now = options.now ?? epochSeconds();
  let added: SigningKeyRecord | undefined;
  const records = await updateKeyRecords(repo, secret, async (current) => {
    const alg = options.alg ?? activeKeyAt(current, now)?.alg ?? 'ES256';
    // The new key must activate after every existing one, or a pending key (from an earlier
    // rotation with a longer jwksMaxAge) would take over again after it.
    const latest = Math.max(now, ...current.map((record) => record.activateAt + 1));
    // With no key yet there is no cached JWKS to wait for: the first key signs at once.
    const activateAt = current.length === 0 ? now : Math.max(now + options.jwksMaxAge, latest);
    const key = await generateSigningKey(alg, { now, activateAt });
    const retireAt = key.activateAt + options.accessTokenTTL;
    added = key;
    return [
      ...current
        .filter((record) => record.retireAt === undefined || record.retireAt > now)
        // Keys that have not been superseded yet (the active one and any still pending)
        // sign until the new key activates; keys already retiring keep their date.
        .map((record) => (record.retireAt === undefined ? { ...record, retireAt } : record)),
      key,
    ];
  });
  if (added === undefined) throw new Error('unreachable: rotation wrote no key');
  return { added, records };
}
