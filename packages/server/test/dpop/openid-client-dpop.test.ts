import { REDIRECT_URI } from '@gatehouse/testkit/clients';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { authorize } from '@gatehouse/testkit/sign-in';
import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { CLIENTS_WITH_DPOP } from './dpop-support.ts';

// A standard relying-party library with DPoP support (openid-client v6) against the real server,
// as the public `dpop-spa` client (dpop_bound_access_tokens): code + PKCE, userinfo, refresh. With
// DPOP_REQUIRE_NONCE=1 the library meets use_dpop_nonce once and recovers with exactly one retry,
// then keeps the nonce for the next requests.
describe.each([
  ['nonces offered', '0'],
  ['nonces required', '1'],
] as const)('openid-client with DPoP, %s', (_label, requireNonce) => {
  const gh = suiteGatehouse({
    redis: false,
    env: { DPOP_REQUIRE_NONCE: requireNonce },
    gatehouse: { clients: CLIENTS_WITH_DPOP },
  });

  it('code + PKCE + userinfo + refresh with a DPoP key; another key cannot refresh', async () => {
    const calls: string[] = [];
    const config = await oidc.discovery(new URL(gh.issuer), 'dpop-spa', undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
    config[oidc.customFetch] = async (url, options) => {
      // openid-client's body type is a subset of fetch's; the lib's Uint8Array generic is what differs.
      const response = await fetch(url, options as RequestInit);
      calls.push(`${options.method} ${new URL(url).pathname} ${response.status}`);
      return response;
    };
    const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));

    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid offline_access',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const callback = await authorize(gh.server, url, 'openid-client-dpop');
    const tokens = await oidc.authorizationCodeGrant(
      config,
      callback,
      { pkceCodeVerifier: verifier, expectedState: state },
      undefined,
      { DPoP },
    );
    expect(tokens.token_type).toBe('dpop');
    const sub = tokens.claims()?.sub;
    expect(sub).toBeTypeOf('string');
    const firstRound = requireNonce === '1' ? ['POST /token 400', 'POST /token 200'] : ['POST /token 200'];
    expect(calls).toEqual(firstRound);

    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, String(sub), { DPoP });
    expect(userinfo.sub).toBe(sub);

    const refreshed = await oidc.refreshTokenGrant(config, String(tokens.refresh_token), undefined, { DPoP });
    expect(refreshed.token_type).toBe('dpop');
    const again = await oidc.refreshTokenGrant(config, String(refreshed.refresh_token), undefined, { DPoP });
    expect(again.access_token).toBeTypeOf('string');
    // One retry in all, at the first request; the library kept the nonce for the rest.
    expect(calls).toEqual([...firstRound, 'GET /userinfo 200', 'POST /token 200', 'POST /token 200']);

    // The refresh token without its key: refused, and the holder's token still works afterwards.
    const thief = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    const stolen = String(again.refresh_token);
    const refused = await oidc
      .refreshTokenGrant(config, stolen, undefined, { DPoP: thief })
      .catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(oidc.ResponseBodyError);
    expect((refused as oidc.ResponseBodyError).error).toBe('invalid_grant');
    expect((await oidc.refreshTokenGrant(config, stolen, undefined, { DPoP })).token_type).toBe('dpop');
  });
});
