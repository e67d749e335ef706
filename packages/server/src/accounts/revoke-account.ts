import type { Account, AccountStore } from './account-store.ts';

export interface RevokedAccountAccess {
  readonly account: Account;
  /** Grant ids handed to `revokeGrant` (some may have expired already). */
  readonly grantIds: readonly string[];
}

/**
 * `users revoke <email>`: ends every session and grant of the account. Sessions and tokens
 * issued until now stop being honoured at once (`findAccount` answers `undefined` for them);
 * then each grant in the account's index is handed to `revokeGrant`, which should destroy
 * the Grant and every token issued under it (the Redis adapter's `revokeByGrantId`), and
 * the index forgets them. Throws `AccountError` `not_found` for an unknown email.
 *
 * @example
 * await revokeAccountAccess(accounts, 'ada@example.com', async (grantId) => {
 *   for (const model of GRANT_BOUND_MODELS) await new RedisAdapter(model).revokeByGrantId(grantId);
 *   await new RedisAdapter('Grant').destroy(grantId);
 * });
 */
export async function revokeAccountAccess(
  accounts: AccountStore,
  email: string,
  revokeGrant: (grantId: string) => Promise<void>,
): Promise<RevokedAccountAccess> {
  const account = await accounts.revokeSessions(email);
  const grantIds = await accounts.grantIds(account.id);
  for (const grantId of grantIds) await revokeGrant(grantId);
  await accounts.forgetGrants(account.id, grantIds);
  return { account, grantIds };
}

/**
 * Resolves once the clock has left the second in which the account's sessions were revoked.
 * Revocation compares whole seconds (`iat`, `loginTs`) and counts its own second as revoked,
 * so a person who signs in again within it would be asked to sign in once more; a page that
 * ends every session waits here (under a second) before it answers.
 *
 * @example
 * const { account } = await revokeAccountAccess(accounts, email, revokeGrant);
 * await untilRevocationHasPassed(account);
 */
export async function untilRevocationHasPassed(account: Account): Promise<void> {
  if (account.sessionsRevokedAt === undefined) return;
  const wait = (account.sessionsRevokedAt + 1) * 1000 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
