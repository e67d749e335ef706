import type { AccountStore } from '../accounts/account-store.ts';
import type { FoundRecord, RequestReads } from '../store/read-ahead.ts';

/** The models whose redemption this reads ahead for. */
export type GrantSourceModel = 'AuthorizationCode' | 'RefreshToken';

/**
 * The reads of a redemption at the token endpoint, made ahead of oidc-provider
 * (`store/read-ahead.ts`): the code or refresh token, and as soon as its record is in, what
 * the provider reads after it one read after another, together in one round trip: its Grant,
 * the session it expires with (only for a record bound to one) and its account
 * ({@link AccountStore.readAhead}). Resolves with the record.
 *
 * Single use is still decided by the adapter's atomic `consume()`, so a code redeemed in between
 * is refused there and counted as a replay (the grant revoked), and a token of a grant revoked
 * in between is refused by the grant's tombstone as it is saved.
 *
 * @example
 * await readAhead.run(async (reads) => {
 *   const record = await readGrantSourceAhead(reads, accounts, 'AuthorizationCode', code);
 *   await next();
 * });
 */
export function readGrantSourceAhead(
  reads: RequestReads,
  accounts: Pick<AccountStore, 'readAhead'>,
  model: GrantSourceModel,
  id: string,
): Promise<FoundRecord> {
  const record = reads.find(model, id);
  // Attached first, so it runs before the caller's (and the provider's) continuation on the
  // record: these reads are sent in one tick, before the provider asks for any of them.
  record.then(
    (found) => {
      if (!found || reads.over) return;
      const { grantId, sessionUid, accountId, expiresWithSession } = found;
      if (typeof grantId === 'string') reads.find('Grant', grantId);
      if (expiresWithSession === true && typeof sessionUid === 'string')
        reads.findByUid('Session', sessionUid);
      if (typeof accountId === 'string') accounts.readAhead(accountId);
    },
    () => {},
  );
  return record;
}
