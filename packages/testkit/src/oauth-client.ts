import * as oidc from 'openid-client';
import { REDIRECT_URI, SERVICE_SECRET, WEB_SECRET } from './clients.ts';

/** openid-client configured for one of the test clients against a local (http) issuer. */
export async function oauthClient(issuer: string, clientId: 'spa' | 'web' | 'service' | 'cli' | 'other-web') {
  const auth =
    clientId === 'service'
      ? oidc.ClientSecretBasic(SERVICE_SECRET)
      : clientId === 'web'
        ? oidc.ClientSecretBasic(WEB_SECRET)
        : clientId === 'other-web'
          ? oidc.ClientSecretBasic(`${WEB_SECRET}-other`)
          : oidc.None();
  return oidc.discovery(new URL(issuer), clientId, undefined, auth, {
    execute: [oidc.allowInsecureRequests],
  });
}

/** A fresh PKCE pair (RFC 7636) and state for one authorization request. */
export async function pkce() {
  const verifier = oidc.randomPKCECodeVerifier();
  return { verifier, challenge: await oidc.calculatePKCECodeChallenge(verifier), state: oidc.randomState() };
}

/** The authorization request of a test client: {@link REDIRECT_URI}, S256 PKCE and `scope`. */
export function authorizationUrl(
  config: oidc.Configuration,
  p: { challenge: string; state: string },
  scope = 'openid offline_access recipes:read',
): URL {
  return oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope,
    code_challenge: p.challenge,
    code_challenge_method: 'S256',
    state: p.state,
  });
}
