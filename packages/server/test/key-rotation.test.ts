import { API } from '@gatehouse/testkit/clients';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { oauthClient } from '@gatehouse/testkit/sign-in';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { RedisKeyRepository, rotateSigningKey } from '../src/signing-keys/index.ts';

const SECRET = 'test-secret-test-secret-test-secret-0123';

describe('signing key rotation with pre-publication', () => {
  const signingKids: string[] = [];
  // A 1-second JWKS max-age makes the pre-publication window short enough to watch.
  const gh = suiteGatehouse({
    env: { JWKS_MAX_AGE: '1' },
    gatehouse: {
      keyPollSeconds: 0.2,
      onSigningKeysChanged: (keys) => signingKids.push(String(keys.jwks[0]?.kid)),
    },
  });

  const issue = async () => {
    const client = await oauthClient(gh.issuer, 'service');
    return (await oidc.clientCredentialsGrant(client, { scope: 'recipes:read', resource: API })).access_token;
  };
  const verifyFresh = (token: string) =>
    // A new remote set per call: what a verifier that just fetched the JWKS sees.
    jwtVerify(token, createRemoteJWKSet(new URL(`${gh.issuer}/jwks`)), {
      issuer: gh.issuer,
      audience: API,
      typ: 'at+jwt',
    });

  it('publishes the next key first, signs with it later, and never rejects a token across the switch', async () => {
    const before = await issue();
    const oldKid = decodeProtectedHeader(before).kid;
    const connection = gh.server.store.connection;
    if (!connection) throw new Error('expected a Redis store');

    const { added } = await rotateSigningKey(new RedisKeyRepository(connection), SECRET, {
      jwksMaxAge: 1,
      accessTokenTTL: 900,
    });
    const published = async () =>
      ((await (await fetch(`${gh.issuer}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map(
        (k) => k.kid,
      );

    // Phase 1: the new key appears in the JWKS while tokens are still signed with the old one.
    let kids: string[] = [];
    for (let i = 0; i < 50 && !kids.includes(added.kid); i++) {
      kids = await published();
      if (!kids.includes(added.kid)) await new Promise((r) => setTimeout(r, 50));
    }
    expect(kids).toContain(added.kid);
    expect(kids).toContain(oldKid);

    // Phase 2: once activated, new tokens carry the new kid.
    let kid = oldKid;
    let latest = before;
    for (let i = 0; i < 100 && kid === oldKid; i++) {
      latest = await issue();
      kid = decodeProtectedHeader(latest).kid;
      if (kid === oldKid) await new Promise((r) => setTimeout(r, 50));
    }
    expect(kid).toBe(added.kid);
    // Operators hear of it: the hook (which logs key_rotated) saw the old, then the new signing key.
    expect(signingKids[0]).toBe(oldKid);
    expect(signingKids).toContain(added.kid);

    // The token signed before the rotation still verifies: the old key stays until it expires.
    await expect(verifyFresh(before)).resolves.toBeDefined();
    await expect(verifyFresh(latest)).resolves.toBeDefined();
    expect(await published()).toContain(oldKid);
  });
});
