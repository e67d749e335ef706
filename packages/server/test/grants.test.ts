import { API } from '@gatehouse/testkit/clients';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import {
  authorizationUrl,
  authorize,
  ensureAccount,
  oauthClient,
  pkce,
  signIn,
} from '@gatehouse/testkit/sign-in';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';

const gh = suiteGatehouse({ redis: false });

describe('authorization code + PKCE (openid-client as the counterpart)', () => {
  it('issues a JWT access token for the default API, an ID token and a refresh token', async () => {
    const client = await oauthClient(gh.issuer, 'spa');
    const p = await pkce();
    const callback = await authorize(
      gh.server,
      authorizationUrl(client, p, 'openid profile email offline_access recipes:read'),
    );
    // RFC 9207: the issuer rides along in every authorization response.
    expect(callback.searchParams.get('iss')).toBe(gh.issuer);
    const tokens = await oidc.authorizationCodeGrant(client, callback, {
      pkceCodeVerifier: p.verifier,
      expectedState: p.state,
    });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.refresh_token).toBeTypeOf('string');
    expect(tokens.id_token).toBeTypeOf('string');

    const header = decodeProtectedHeader(tokens.access_token);
    expect(header.typ).toBe('at+jwt');
    expect(header.alg).toBe('ES256');
    const claims = decodeJwt(tokens.access_token);
    const sub = await ensureAccount(gh.server, 'user-1');
    expect(claims).toMatchObject({ iss: gh.issuer, sub, aud: API, client_id: 'spa' });
    // The ID token carries the profile and email claims (no userinfo token is issued).
    expect(decodeJwt(String(tokens.id_token))).toMatchObject({
      sub,
      email: 'user-1@example.test',
      email_verified: true,
    });
    expect(String(claims.scope).split(' ')).toContain('recipes:read');
    for (const claim of ['iat', 'exp', 'jti', 'gid']) expect(claims[claim]).toBeDefined();
    expect(Number(claims.exp) - Number(claims.iat)).toBe(900);
  });

  it('answers userinfo for a sign-in of OpenID scopes alone; an access token for an API gets 401 there, its claims ride in the ID token', async () => {
    const {
      client,
      tokens: identity,
      accountId: sub,
    } = await signIn(gh.server, gh.issuer, 'user-1', 'openid email');
    expect(identity.scope).toBe('openid email');
    await expect(oidc.fetchUserInfo(client, identity.access_token, sub)).resolves.toMatchObject({
      sub,
      email: 'user-1@example.test',
    });

    // An API scope in the request: the access token is the API's (RFC 8707 audience), which
    // oidc-provider's userinfo does not take; what the client asked to know is in the ID token.
    const { tokens: api } = await signIn(gh.server, gh.issuer, 'user-1', 'openid email recipes:read');
    expect(decodeJwt(api.access_token).aud).toBe(API);
    const refused = await fetch(`${gh.issuer}/userinfo`, {
      headers: { authorization: `Bearer ${api.access_token}` },
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    expect(decodeJwt(String(api.id_token))).toMatchObject({ sub, email: 'user-1@example.test' });
  });

  it('rejects a wrong PKCE verifier with invalid_grant', async () => {
    const client = await oauthClient(gh.issuer, 'spa');
    const p = await pkce();
    const callback = await authorize(gh.server, authorizationUrl(client, p));
    const error = await oidc
      .authorizationCodeGrant(client, callback, {
        pkceCodeVerifier: oidc.randomPKCECodeVerifier(),
        expectedState: p.state,
      })
      .catch((err: unknown) => err);
    expect(error).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses an authorization request without PKCE, also for a confidential client', async () => {
    const client = await oauthClient(gh.issuer, 'web');
    const url = oidc.buildAuthorizationUrl(client, {
      redirect_uri: 'http://localhost:5173/callback',
      scope: 'openid',
      state: 'xyz',
    });
    const response = await fetch(url, { redirect: 'manual' });
    const location = new URL(String(response.headers.get('location')));
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('shows an error page and never redirects to an unregistered redirect_uri', async () => {
    const client = await oauthClient(gh.issuer, 'spa');
    const p = await pkce();
    const url = authorizationUrl(client, p);
    url.searchParams.set('redirect_uri', 'https://attacker.example/cb');
    const response = await fetch(url, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toMatch(/redirect_uri/);
  });

  it('advertises only the code response type and S256', async () => {
    const metadata = (await (await fetch(`${gh.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(metadata.response_types_supported).toEqual(['code']);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
    expect(metadata.grant_types_supported).not.toContain('password');
    expect(metadata.grant_types_supported).not.toContain('implicit');
  });
});

describe('client credentials', () => {
  it('issues a JWT for the API the client asks for', async () => {
    const client = await oauthClient(gh.issuer, 'service');
    const tokens = await oidc.clientCredentialsGrant(client, { scope: 'recipes:read', resource: API });
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({
      iss: gh.issuer,
      sub: 'service',
      aud: API,
      client_id: 'service',
      scope: 'recipes:read',
    });
    expect(tokens.refresh_token).toBeUndefined();
  });

  it('defaults the audience to the API whose scopes were asked for', async () => {
    const client = await oauthClient(gh.issuer, 'service');
    const tokens = await oidc.clientCredentialsGrant(client, { scope: 'recipes:write' });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: API, scope: 'recipes:write' });
  });
});

describe('device authorization grant (RFC 8628)', () => {
  it('issues tokens once the user approved, and says authorization_pending before', async () => {
    const client = await oauthClient(gh.issuer, 'cli');
    const device = await oidc.initiateDeviceAuthorization(client, {
      scope: 'openid offline_access recipes:read',
    });
    expect(device.user_code).toMatch(/^[A-Z]{4}-?[A-Z]{4}$/);
    const pending = await fetch(`${gh.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: device.device_code,
        client_id: 'cli',
      }),
    });
    expect(pending.status).toBe(400);
    expect(await pending.json()).toMatchObject({ error: 'authorization_pending' });

    // The user's side: approve the device code the way the confirmation page does.
    const provider = gh.server.host.provider;
    const code = await provider.DeviceCode.findByUserCode(device.user_code.replace(/[^A-Z]/g, ''));
    if (!code) throw new Error('device code not found by user code');
    const accountId = await ensureAccount(gh.server, 'user-2');
    const grant = new provider.Grant({ accountId, clientId: 'cli' });
    grant.addOIDCScope('openid offline_access');
    grant.addResourceScope(API, 'recipes:read');
    code.grantId = await grant.save();
    code.accountId = accountId;
    code.resource = API;
    code.authTime = Math.floor(Date.now() / 1000);
    await code.save();

    const tokens = await oidc.pollDeviceAuthorizationGrant(client, { ...device, interval: 0 });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: accountId, aud: API, client_id: 'cli' });
    expect(tokens.refresh_token).toBeTypeOf('string');
  });
});
