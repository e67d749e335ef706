import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { AccountStore } from '../accounts/account-store.ts';

type LoadExistingGrant = NonNullable<Configuration['loadExistingGrant']>;

/**
 * oidc-provider's `loadExistingGrant`, extended so consent is remembered per account and
 * client, not only per browser session: oidc-provider's default looks only at the current
 * session, so signing in again in another browser would ask for consent again. The consent
 * page records each grant in the account's grant index; this finds it again. oidc-provider
 * then asks for consent only for scopes the grant does not hold yet.
 *
 * @example
 * new Provider(issuer, { loadExistingGrant: createLoadExistingGrant(accounts), … });
 */
export function createLoadExistingGrant(accounts: Pick<AccountStore, 'grantIdForClient'>): LoadExistingGrant {
  return async function loadExistingGrant(ctx: KoaContextWithOIDC) {
    const { oidc } = ctx;
    const clientId = oidc.client?.clientId;
    const current =
      oidc.result?.consent?.grantId ?? (clientId ? oidc.session?.grantIdFor(clientId) : undefined);
    if (current) return oidc.provider.Grant.find(current);
    const accountId = oidc.session?.accountId;
    if (!accountId || !clientId) return undefined;
    const remembered = await accounts.grantIdForClient(accountId, clientId);
    const grant = remembered ? await oidc.provider.Grant.find(remembered) : undefined;
    // oidc-provider asserts both again; a mismatch here means a stale index entry.
    return grant?.accountId === accountId && grant.clientId === clientId ? grant : undefined;
  };
}
