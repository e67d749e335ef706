import { revokeAccountAccess, untilRevocationHasPassed } from '../accounts/revoke-account.ts';
import type { PageContext } from './context.ts';

/**
 * Ends every session and grant of the account, as `users revoke` does: sessions stop answering
 * `prompt=none`, refresh tokens get `invalid_grant`, and each grant's revocation is published
 * to resource servers. Then waits until the revocation's second is over, so that the person
 * who just proved they own the address can sign in at once. `by` names the page in the
 * security log (`password reset`, `email confirmation`).
 *
 * @example
 * await endAccountAccess(deps, account.email, 'password reset');
 */
export async function endAccountAccess(deps: PageContext, email: string, by: string): Promise<void> {
  const { account, grantIds } = await revokeAccountAccess(deps.accounts, email, deps.revokeGrant);
  for (const grantId of grantIds) {
    deps.onSecurityEvent?.({ type: 'grant_revoked', grantId, accountId: account.id, by });
  }
  await untilRevocationHasPassed(account);
}
