import type { JWK } from 'jose';
import { SigningKeyError } from './signing-key-error.ts';
import type { SigningKeyRecord } from './signing-key-record.ts';

/** What the provider needs at one moment: the keys to sign with and the keys to publish. */
export interface KeySet {
  /** Private JWK of the active main key (ES256 or EdDSA): the newest whose `activateAt` has come. */
  readonly signing: JWK;
  /**
   * Private JWK of the active RS256 key, for ID tokens of clients on the OpenID Connect
   * default; `undefined` only for a key set stored before Gatehouse had RS256 keys.
   */
  readonly rsaSigning: JWK | undefined;
  /**
   * Private JWKs for oidc-provider's `jwks` option: the signing keys first (oidc-provider
   * signs with the first key matching the algorithm), then every other key that is
   * published and not yet retired. oidc-provider serves only their public parts.
   */
  readonly published: JWK[];
  /** The next `publishAt`/`activateAt`/`retireAt` after `now`: when to rebuild the key set. */
  readonly nextChangeAt: number | undefined;
}

/**
 * The key that signs at `now`: the newest whose `activateAt <= now`. When none has activated
 * yet (this instance's clock is behind the one that generated the first key), the earliest
 * key: it is the one other instances are already signing with.
 */
export function activeKeyAt(records: readonly SigningKeyRecord[], now: number): SigningKeyRecord | undefined {
  let active: SigningKeyRecord | undefined;
  let earliest: SigningKeyRecord | undefined;
  for (const record of records) {
    if (earliest === undefined || record.activateAt < earliest.activateAt) earliest = record;
    if (record.activateAt > now) continue;
    if (
      active === undefined ||
      record.activateAt > active.activateAt ||
      (record.activateAt === active.activateAt && record.createdAt > active.createdAt)
    ) {
      active = record;
    }
  }
  return active ?? earliest;
}

/** Whether `record` belongs in the JWKS at `now`. */
export function isPublishedAt(record: SigningKeyRecord, now: number): boolean {
  return record.publishAt <= now && (record.retireAt === undefined || now < record.retireAt);
}

/**
 * The signing keys and published keys at `now` (epoch seconds). Throws
 * {@link SigningKeyError} `no_keys` for an empty set.
 *
 * @example
 * const { signing, published, nextChangeAt } = keySetAt(await loadKeys(repo, secret), epochSeconds());
 * const provider = new Provider(issuer, { jwks: { keys: published } });
 */
export function keySetAt(records: readonly SigningKeyRecord[], now: number): KeySet {
  const active = activeKeyAt(records, now);
  if (active === undefined) throw new SigningKeyError('no_keys', 'there are no signing keys');
  // The RS256 key of the newest activated generation that has one: the active generation's,
  // unless the key set was stored by a release that did not write RS256 keys.
  const rsaSigning = activeKeyAt(
    records.filter((record) => record.rsa !== undefined),
    now,
  )?.rsa;
  const others = records
    .filter((record) => record !== active && isPublishedAt(record, now))
    // Newest first, so the JWKS reads as a timeline; only the first position matters to oidc-provider.
    .sort((a, b) => b.activateAt - a.activateAt);
  let nextChangeAt: number | undefined;
  for (const record of records) {
    for (const at of [record.publishAt, record.activateAt, record.retireAt]) {
      if (at !== undefined && at > now && (nextChangeAt === undefined || at < nextChangeAt))
        nextChangeAt = at;
    }
  }
  const published = [
    active.jwk,
    ...(rsaSigning === undefined ? [] : [rsaSigning.jwk]),
    ...others.flatMap((record) => [
      record.jwk,
      ...(record.rsa === undefined || record.rsa === rsaSigning ? [] : [record.rsa.jwk]),
    ]),
  ];
  return {
    signing: { ...active.jwk },
    rsaSigning: rsaSigning === undefined ? undefined : { ...rsaSigning.jwk },
    published: published.map((jwk) => ({ ...jwk })),
    nextChangeAt,
  };
}
