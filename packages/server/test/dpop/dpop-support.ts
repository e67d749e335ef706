import { REDIRECT_URI, TEST_CLIENTS } from '@gatehouse/testkit/clients';
import { type DpopKey, dpopProof } from '@gatehouse/testkit/dpop';
import { type FormResponse, postForm } from '@gatehouse/testkit/forms';
import type { StartedGatehouse } from '@gatehouse/testkit/server';
import { authorize, pkce } from '@gatehouse/testkit/sign-in';
import { decodeJwt } from 'jose';
import type { ClientMetadata } from 'oidc-provider';

/** A public SPA client registered with `dpop_bound_access_tokens: true` (RFC 9449 §5.2). */
export const DPOP_SPA: ClientMetadata = {
  client_id: 'dpop-spa',
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
  redirect_uris: [REDIRECT_URI],
  application_type: 'web',
  dpop_bound_access_tokens: true,
};

/** The test clients and {@link DPOP_SPA}. */
export const CLIENTS_WITH_DPOP: ClientMetadata[] = [...TEST_CLIENTS, DPOP_SPA];

/** An authorization code for `clientId` (PKCE S256), signed in as `user`; not redeemed yet. */
export async function codeFor(
  gh: Pick<StartedGatehouse, 'server' | 'issuer'>,
  options: { clientId?: string; scope?: string; user?: string; extra?: Record<string, string> } = {},
): Promise<{ code: string; verifier: string }> {
  const p = await pkce();
  const url = new URL(`${gh.issuer}/authorize`);
  url.search = new URLSearchParams({
    client_id: options.clientId ?? 'spa',
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: options.scope ?? 'openid offline_access recipes:read',
    code_challenge: p.challenge,
    code_challenge_method: 'S256',
    state: p.state,
    ...options.extra,
  }).toString();
  const callback = await authorize(gh.server, url, options.user ?? 'dpop-user');
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code: ${callback.href}`);
  return { code, verifier: p.verifier };
}

/** A token request, with a fresh proof of `key` for `issuer`'s token endpoint when a key is given. */
export async function tokenRequest(
  issuer: string,
  form: Record<string, string>,
  key?: DpopKey,
  headers: Record<string, string> = {},
): Promise<FormResponse> {
  const url = `${issuer}/token`;
  const proof = key ? { dpop: await dpopProof(key, { htm: 'POST', htu: url }) } : {};
  return postForm(url, form, { ...proof, ...headers });
}

/** Signs in through the code flow and redeems the code with a proof of `key` (none: without DPoP). */
export async function signInWithDpop(
  gh: Pick<StartedGatehouse, 'server' | 'issuer'>,
  key: DpopKey | undefined,
  options: { clientId?: string; scope?: string; user?: string; headers?: Record<string, string> } = {},
): Promise<FormResponse> {
  const { code, verifier } = await codeFor(gh, options);
  return tokenRequest(gh.issuer, codeForm(code, verifier, options.clientId ?? 'spa'), key, options.headers);
}

/** The token request that redeems an authorization code from {@link codeFor}. */
export function codeForm(code: string, verifier: string, clientId = 'spa'): Record<string, string> {
  return {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT_URI,
    client_id: clientId,
  };
}

export function refreshForm(refreshToken: string, clientId = 'spa'): Record<string, string> {
  return { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId };
}

/** The claims of a JWT access token (no verification: the tests read what the server put in). */
export function claimsOf(token: unknown): Record<string, unknown> {
  return decodeJwt(String(token));
}
