import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { API, basic, WEB_SECRET } from '@gatehouse/testkit/clients';
import { dpopKey, dpopProof } from '@gatehouse/testkit/dpop';
import { postForm } from '@gatehouse/testkit/forms';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { ensureAccount } from '@gatehouse/testkit/sign-in';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENTS_WITH_DPOP,
  claimsOf,
  codeFor,
  codeForm,
  refreshForm,
  signInWithDpop,
  tokenRequest,
} from './dpop-support.ts';

// RFC 9449 at the token endpoint, userinfo and introspection, through the real server on both
// stores: what a token issued with a proof is bound to, and what a stolen one can still do.
describe.each(['memory', 'redis'] as const)('DPoP-bound tokens on the %s store', (backend) => {
  let redis: RedisProcess | undefined;
  let gh: StartedGatehouse;
  beforeAll(async () => {
    if (backend === 'redis') redis = await startRedis();
    gh = await startGatehouse({ ...(redis ? { redis } : {}), gatehouse: { clients: CLIENTS_WITH_DPOP } });
  });
  afterAll(async () => {
    await gh?.stop();
    await redis?.cleanup();
  });

  const introspect = (token: unknown, clientId = 'spa') =>
    postForm(`${gh.issuer}/introspect`, { token: String(token), client_id: clientId });

  it('a code redeemed with a proof gives a DPoP token: token_type DPoP, cnf.jkt in the JWT, cnf at introspection', async () => {
    const key = await dpopKey();
    const issued = await signInWithDpop(gh, key);
    expect(issued.status).toBe(200);
    expect(issued.body.token_type).toBe('DPoP');
    const claims = claimsOf(issued.body.access_token);
    expect(claims.aud).toBe('http://localhost:4001');
    expect(claims.cnf).toEqual({ jkt: key.thumbprint });

    // RFC 9449 §6.2: introspection names the key, for the JWT access token and the refresh token.
    const accessToken = await introspect(issued.body.access_token);
    expect(accessToken.body).toMatchObject({
      active: true,
      token_type: 'DPoP',
      cnf: { jkt: key.thumbprint },
    });
    const refreshToken = await introspect(issued.body.refresh_token);
    expect(refreshToken.body).toMatchObject({ active: true, cnf: { jkt: key.thumbprint } });

    // Without a proof the same client still gets Bearer tokens, introspected without cnf.
    const bearer = await signInWithDpop(gh, undefined);
    expect(bearer.body.token_type).toBe('Bearer');
    expect(claimsOf(bearer.body.access_token).cnf).toBeUndefined();
    const plain = await introspect(bearer.body.access_token);
    expect(plain.body).toMatchObject({ active: true, token_type: 'Bearer' });
    expect(plain.body.cnf).toBeUndefined();
  });

  it('revocation and introspection take no proof (RFC 9449 defines none there): a DPoP header changes nothing', async () => {
    const key = await dpopKey();
    const issued = await signInWithDpop(gh, key);
    const withProof = async (path: string, form: Record<string, string>) =>
      postForm(`${gh.issuer}${path}`, form, {
        dpop: await dpopProof(key, { htm: 'POST', htu: `${gh.issuer}${path}` }),
      });
    const introspected = await withProof('/introspect', {
      token: String(issued.body.refresh_token),
      client_id: 'spa',
    });
    expect(introspected.body).toMatchObject({ active: true, cnf: { jkt: key.thumbprint } });
    const revoked = await withProof('/revoke', {
      token: String(issued.body.refresh_token),
      client_id: 'spa',
    });
    expect(revoked.status).toBe(200);
    expect((await introspect(issued.body.refresh_token)).body.active).toBe(false);
    expect(
      (await tokenRequest(gh.issuer, refreshForm(String(issued.body.refresh_token)), key)).body.error,
    ).toBe('invalid_grant');
  });

  it('EdDSA keys work as well as ES256 (both advertised, both accepted)', async () => {
    for (const alg of ['EdDSA', 'Ed25519'] as const) {
      const key = await dpopKey(alg);
      const issued = await signInWithDpop(gh, key);
      expect(issued.status, alg).toBe(200);
      expect(claimsOf(issued.body.access_token).cnf).toEqual({ jkt: key.thumbprint });
    }
  });

  it('a public client’s refresh token is bound: another key or no proof is invalid_grant, and the holder keeps refreshing', async () => {
    const holder = await dpopKey();
    const thief = await dpopKey();
    const issued = await signInWithDpop(gh, holder);
    const stolen = String(issued.body.refresh_token);

    // The refresh token read out of storage, replayed elsewhere: dead on arrival.
    const otherKey = await tokenRequest(gh.issuer, refreshForm(stolen), thief);
    expect(otherKey.status).toBe(400);
    expect(otherKey.body.error).toBe('invalid_grant');
    const noProof = await tokenRequest(gh.issuer, refreshForm(stolen));
    expect(noProof.status).toBe(400);
    expect(noProof.body.error).toBe('invalid_grant');

    // Those attempts spent nothing and revoked nothing: the rightful holder carries on, and the
    // successor is bound to the same key.
    const refreshed = await tokenRequest(gh.issuer, refreshForm(stolen), holder);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.token_type).toBe('DPoP');
    expect(claimsOf(refreshed.body.access_token).cnf).toEqual({ jkt: holder.thumbprint });
    const successor = String(refreshed.body.refresh_token);
    expect((await tokenRequest(gh.issuer, refreshForm(successor), thief)).body.error).toBe('invalid_grant');
    expect((await tokenRequest(gh.issuer, refreshForm(successor), holder)).status).toBe(200);
  });

  it('a thief with an already rotated bound refresh token cannot even trigger reuse detection: the family lives on', async () => {
    const holder = await dpopKey();
    const thief = await dpopKey();
    const issued = await signInWithDpop(gh, holder);
    const old = String(issued.body.refresh_token);
    const rotated = await tokenRequest(gh.issuer, refreshForm(old), holder);
    expect(rotated.status).toBe(200);
    // RFC 9700 §4.14.2 reuse detection would revoke the family on a replay of `old`; a replay
    // without the key is refused before that, so a stolen old token cannot log the user out.
    for (const key of [thief, undefined]) {
      const replay = await tokenRequest(gh.issuer, refreshForm(old), key);
      expect(replay.body.error).toBe('invalid_grant');
    }
    expect(
      (await tokenRequest(gh.issuer, refreshForm(String(rotated.body.refresh_token)), holder)).status,
    ).toBe(200);
  });

  it('dpop_jkt at authorization binds the code to a key (RFC 9449 §10): another key or none cannot redeem it, nor burn it', async () => {
    const key = await dpopKey();
    const other = await dpopKey();
    const { code, verifier } = await codeFor(gh, { extra: { dpop_jkt: key.thumbprint } });
    const form = codeForm(code, verifier, 'spa');
    expect((await tokenRequest(gh.issuer, form)).body.error).toBe('invalid_grant');
    expect((await tokenRequest(gh.issuer, form, other)).body.error).toBe('invalid_grant');
    // Those refusals consumed nothing: the rightful redemption is not taken for a code replay.
    const issued = await tokenRequest(gh.issuer, form, key);
    expect(issued.status).toBe(200);
    expect(claimsOf(issued.body.access_token).cnf).toEqual({ jkt: key.thumbprint });
  });

  it('the device grant binds too: a public CLI’s tokens carry cnf.jkt and its refresh token needs the key', async () => {
    const device = await postForm(`${gh.issuer}/device/auth`, {
      client_id: 'cli',
      scope: 'openid offline_access recipes:read',
    });
    expect(device.status).toBe(200);
    // The user's side, as the confirmation page does it.
    const provider = gh.server.host.provider;
    const pending = await provider.DeviceCode.findByUserCode(
      String(device.body.user_code).replace(/[^A-Z]/g, ''),
    );
    if (!pending) throw new Error('device code not found by user code');
    const accountId = await ensureAccount(gh.server, 'dpop-device-user');
    const grant = new provider.Grant({ accountId, clientId: 'cli' });
    grant.addOIDCScope('openid offline_access');
    grant.addResourceScope(API, 'recipes:read');
    pending.grantId = await grant.save();
    pending.accountId = accountId;
    pending.resource = API;
    pending.authTime = Math.floor(Date.now() / 1000);
    await pending.save();

    const key = await dpopKey();
    const issued = await tokenRequest(
      gh.issuer,
      {
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: String(device.body.device_code),
        client_id: 'cli',
      },
      key,
    );
    expect(issued.status).toBe(200);
    expect(issued.body.token_type).toBe('DPoP');
    expect(claimsOf(issued.body.access_token).cnf).toEqual({ jkt: key.thumbprint });
    const refreshToken = String(issued.body.refresh_token);
    expect((await tokenRequest(gh.issuer, refreshForm(refreshToken, 'cli'))).body.error).toBe(
      'invalid_grant',
    );
    expect((await tokenRequest(gh.issuer, refreshForm(refreshToken, 'cli'), key)).status).toBe(200);
  });

  it('a client registered with dpop_bound_access_tokens gets nothing without a proof (and its code survives the refusal)', async () => {
    const { code, verifier } = await codeFor(gh, { clientId: 'dpop-spa' });
    const form = codeForm(code, verifier, 'dpop-spa');
    const refused = await tokenRequest(gh.issuer, form);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    const key = await dpopKey();
    const issued = await tokenRequest(gh.issuer, form, key);
    expect(issued.status).toBe(200);
    expect(issued.body.token_type).toBe('DPoP');
    const noProof = await tokenRequest(gh.issuer, refreshForm(String(issued.body.refresh_token), 'dpop-spa'));
    expect(noProof.body.error).toBe('invalid_grant');
  });

  it('a confidential client’s refresh token is bound to its client authentication, not to a key; each access token to the proof it came with', async () => {
    const first = await dpopKey();
    const issued = await signInWithDpop(gh, first, { clientId: 'web', headers: basic('web', WEB_SECRET) });
    expect(issued.status).toBe(200);
    expect(issued.body.token_type).toBe('DPoP');
    const webRefresh = (refreshToken: unknown) => ({
      grant_type: 'refresh_token',
      refresh_token: String(refreshToken),
    });

    // RFC 9449 §5: the client secret is what holds the refresh token; a new key binds the new access token.
    const second = await dpopKey();
    const rekeyed = await tokenRequest(
      gh.issuer,
      webRefresh(issued.body.refresh_token),
      second,
      basic('web', WEB_SECRET),
    );
    expect(rekeyed.status).toBe(200);
    expect(claimsOf(rekeyed.body.access_token).cnf).toEqual({ jkt: second.thumbprint });
    // Without the secret the refresh token is worth nothing, proof or not.
    const noSecret = await tokenRequest(
      gh.issuer,
      { ...webRefresh(rekeyed.body.refresh_token), client_id: 'web' },
      second,
    );
    expect(noSecret.status).toBe(401);
    expect(noSecret.body.error).toBe('invalid_client');
  });

  it('userinfo takes a DPoP token only with a proof of its key for that token (RFC 9449 §7)', async () => {
    const key = await dpopKey();
    // openid scopes alone: the access token is for userinfo (opaque), not for an API.
    const issued = await signInWithDpop(gh, key, { scope: 'openid offline_access' });
    const accessToken = String(issued.body.access_token);
    const userinfo = `${gh.issuer}/userinfo`;
    const call = async (authorization: string, dpop?: string) => {
      const response = await fetch(userinfo, { headers: { authorization, ...(dpop ? { dpop } : {}) } });
      return {
        status: response.status,
        wwwAuthenticate: response.headers.get('www-authenticate') ?? '',
        body: await response.text(),
      };
    };

    const ok = await call(
      `DPoP ${accessToken}`,
      await dpopProof(key, { htm: 'GET', htu: userinfo, accessToken }),
    );
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toHaveProperty('sub');

    // As a bearer token it is refused: a copied token without the key is worth nothing.
    const asBearer = await call(`Bearer ${accessToken}`);
    expect(asBearer.status).toBe(401);
    expect(asBearer.wwwAuthenticate).toMatch(/^DPoP /);
    expect(asBearer.wwwAuthenticate).toContain('error="invalid_token"');

    const thief = await dpopKey();
    const otherKey = await call(
      `DPoP ${accessToken}`,
      await dpopProof(thief, { htm: 'GET', htu: userinfo, accessToken }),
    );
    expect(otherKey.status).toBe(401);
    expect(otherKey.wwwAuthenticate).toContain('error="invalid_token"');
  });
});
