import { interactionPolicy } from 'oidc-provider';

/**
 * oidc-provider's default prompts plus one login check: a browser session whose account
 * `findAccount` no longer returns (disabled, or `users revoke` ended its sessions) is asked
 * to sign in again. Without it oidc-provider trusts the session's account id, finds no
 * account, and fails the authorization request with a 500.
 *
 * @example
 * new Provider(issuer, { interactions: { policy: createInteractionPolicy(), url } });
 */
export function createInteractionPolicy(): interactionPolicy.DefaultPolicy {
  const { base, Check } = interactionPolicy;
  const policy = base();
  const login = policy.get('login');
  if (!login) throw new Error('oidc-provider base policy has no login prompt');
  login.checks.add(
    // OIDC Core §3.1.2.6: with prompt=none the client learns `login_required`, as for no session.
    new Check(
      'account_unavailable',
      'the account of this session cannot sign in any more',
      'login_required',
      (ctx) =>
        ctx.oidc.session?.accountId && !ctx.oidc.account ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT,
    ),
    // Right after `no_session` (checks[0] is the requestable `login_prompt` one).
    2,
  );
  return policy;
}
