import * as oidc from 'openid-client';
import { REDIRECT_URI, SERVICE_SECRET, WEB_SECRET } from './gatehouse.ts';

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

/** A fresh PKCE pair and state for one authorization request. */
export async function pkce() {
  const verifier = oidc.randomPKCECodeVerifier();
  return { verifier, challenge: await oidc.calculatePKCECodeChallenge(verifier), state: oidc.randomState() };
}

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

/** POSTs a form to the token endpoint the way a client would, without a library's checks. */
export async function postForm(
  url: string,
  form: Record<string, string> | string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: typeof form === 'string' ? form : new URLSearchParams(form).toString(),
  });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = { raw: text };
  }
  return { status: response.status, headers: response.headers, body };
}

export function basic(clientId: string, secret: string): Record<string, string> {
  return {
    authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
  };
}
