import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { AccountStore } from '../accounts/account-store.ts';

type FindAccount = NonNullable<Configuration['findAccount']>;
type LoadExistingGrant = NonNullable<Configuration['loadExistingGrant']>;
type ExistingGrant = Awaited<ReturnType<LoadExistingGrant>>;

/** The provider hooks of {@link createRememberedConsent}. */
export interface RememberedConsent {
  readonly findAccount: FindAccount;
  readonly loadExistingGrant: LoadExistingGrant;
}

/** The routes whose `loadAccount` step is followed at once by `loadGrant` (oidc-provider's authorization chain). */
const ACCOUNT_THEN_GRANT_ROUTES: ReadonlySet<string> = new Set(['authorization', 'resume']);

/**
 * oidc-provider's `loadExistingGrant`, extended so consent is remembered per account and
 * client, not only per browser session: oidc-provider's default looks only at the current
 * session, so signing in again in another browser would ask for consent again. The consent
 * page records each grant in the account's grant index; this finds it again. oidc-provider
 * then asks for consent only for scopes the grant does not hold yet.
 *
 * With it, `findAccount`: on the authorization and resume routes oidc-provider loads the
 * session's account and then, in the very next step, its grant; the grant's lookup starts
 * with the account's read, so both share one round trip. What the lookup reads (the interaction
 * result, the session, the client) is the same at both moments, as nothing runs in between;
 * the provider still checks the grant's account and client against the account it loaded.
 *
 * @example
 * const consent = createRememberedConsent(accounts);
 * new Provider(issuer, { findAccount: consent.findAccount, loadExistingGrant: consent.loadExistingGrant, … });
 */
export function createRememberedConsent(
  accounts: Pick<AccountStore, 'grantIdForClient' | 'findAccount'>,
): RememberedConsent {
  const early = new WeakMap<KoaContextWithOIDC, Promise<ExistingGrant>>();

  async function lookUpGrant(ctx: KoaContextWithOIDC): Promise<ExistingGrant> {
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
  }

  return {
    findAccount(ctx, sub, token) {
      const oidc = ctx?.oidc;
      if (
        ctx &&
        token === undefined &&
        oidc?.session?.accountId === sub &&
        oidc.client &&
        ACCOUNT_THEN_GRANT_ROUTES.has(oidc.route)
      ) {
        const grant = lookUpGrant(ctx);
        // Observed at once: when the account is refused, the provider never asks for the grant.
        grant.catch(() => {});
        early.set(ctx, grant);
      }
      return accounts.findAccount(ctx, sub, token);
    },

    loadExistingGrant(ctx) {
      const grant = early.get(ctx);
      if (grant === undefined) return lookUpGrant(ctx);
      early.delete(ctx);
      return grant;
    },
  };
}
