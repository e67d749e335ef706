import type { KeyRepository } from './key-repository.ts';
import { activeKeyAt } from './key-set.ts';
import { loadKeys } from './signing-key-lifecycle.ts';
import { epochSeconds, type SigningAlgorithm } from './signing-key-record.ts';

/**
 * - `next`: published, not signing yet (pre-publication)
 * - `active`: signs new tokens
 * - `retiring`: no longer signs, still published for the tokens it signed
 * - `retired`: past `retireAt`, unpublished, removed at the next rotation
 */
export type SigningKeyState = 'next' | 'active' | 'retiring' | 'retired';

/** A generation of signing keys as an operator sees it: no private material. Times are epoch seconds. */
export interface SigningKeySummary {
  /** The main key, which signs access tokens. */
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  /** The generation's RS256 key (ID tokens); absent when stored before Gatehouse had them. */
  readonly rsaKid?: string;
  readonly state: SigningKeyState;
  readonly createdAt: number;
  readonly publishAt: number;
  readonly activateAt: number;
  readonly retireAt?: number;
}

/**
 * The stored generations of keys and their state at `now`, oldest activation first.
 *
 * @example
 * for (const key of await listKeys(repo, secret)) console.log(key.kid, key.state);
 */
export async function listKeys(
  repo: KeyRepository,
  secret: string,
  now: number = epochSeconds(),
): Promise<SigningKeySummary[]> {
  const records = await loadKeys(repo, secret);
  const active = activeKeyAt(records, now);
  return records
    .toSorted((a, b) => a.activateAt - b.activateAt)
    .map((record) => {
      const state: SigningKeyState =
        record === active
          ? 'active'
          : record.activateAt > now
            ? 'next'
            : record.retireAt !== undefined && record.retireAt <= now
              ? 'retired'
              : 'retiring';
      return {
        kid: record.kid,
        alg: record.alg,
        ...(record.rsa === undefined ? {} : { rsaKid: record.rsa.kid }),
        state,
        createdAt: record.createdAt,
        publishAt: record.publishAt,
        activateAt: record.activateAt,
        ...(record.retireAt === undefined ? {} : { retireAt: record.retireAt }),
      };
    });
}
