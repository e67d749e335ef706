import type { GatehouseServer } from '@gatehouse/server';
import * as oidc from 'openid-client';
import { authorizationUrl, oauthClient, pkce } from './oauth-client.ts';
import { authorize, ensureAccount } from './user-agent.ts';

/** Runs the code flow for the public `spa` client as the account `user`; returns its tokens and `sub`. */
export async function signIn(server: GatehouseServer, issuer: string, user = 'user-1', scope?: string) {
  const client = await oauthClient(issuer, 'spa');
  const p = await pkce();
  const callback = await authorize(server, authorizationUrl(client, p, scope), user);
  const tokens = await oidc.authorizationCodeGrant(client, callback, {
    pkceCodeVerifier: p.verifier,
    expectedState: p.state,
  });
  if (!tokens.refresh_token) throw new Error('no refresh token issued');
  const accountId = await ensureAccount(server, user);
  return { client, tokens, refreshToken: tokens.refresh_token, accountId };
}

/** Starts the code flow and stops at the callback: the code is not redeemed yet. */
export async function authorizationCode(server: GatehouseServer, issuer: string) {
  const client = await oauthClient(issuer, 'spa');
  const p = await pkce();
  const callback = await authorize(server, authorizationUrl(client, p));
  return { client, code: String(callback.searchParams.get('code')), verifier: p.verifier };
}
