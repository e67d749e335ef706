import { createAccessTokenVerifier } from '@gatehouse/resource';
import { loadKeys, RedisKeyRepository } from '@gatehouse/server/internal/keys';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { signIn } from '@gatehouse/testkit/sign-in';
import { decodeJwt, decodeProtectedHeader, importJWK, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';

const AUDIENCE = 'http://localhost:4001';
const SECRET = 'test-secret-test-secret-test-secret-0123';

// The server's JWKS carries an RS256 key for ID tokens beside the main key. The resource
// verifier's allow-list (ES256, EdDSA by default) keeps it out of access token verification.
describe('the resource verifier with an RSA key in the JWKS', () => {
  const gh = suiteGatehouse();

  it('accepts the real ES256 access token and refuses an at+jwt signed with the published RSA key', async () => {
    const { tokens } = await signIn(gh.server, gh.issuer, 'rsa-jwks-user');
    const keys = ((await (await fetch(`${gh.issuer}/jwks`)).json()) as { keys: { alg: string }[] }).keys;
    expect(keys.map((key) => key.alg)).toEqual(['ES256', 'RS256']);

    const verifier = createAccessTokenVerifier({ issuer: gh.issuer, audience: AUDIENCE, cache: false });
    try {
      await expect(verifier.verify(tokens.access_token)).resolves.toMatchObject({ clientId: 'spa' });

      // Same claims, typ at+jwt, signed by the server's own RSA key, which /jwks publishes:
      // what a leaked ID token key, or a server bug signing access tokens RS256, would produce.
      const connection = gh.server.store.connection;
      if (!connection) throw new Error('expected Redis');
      const rsa = (await loadKeys(new RedisKeyRepository(connection), SECRET))[0]?.rsa;
      if (!rsa) throw new Error('expected an RS256 key');
      const forged = await new SignJWT(decodeJwt(tokens.access_token))
        .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: rsa.kid })
        .sign(await importJWK(rsa.jwk, 'RS256'));
      expect(decodeProtectedHeader(forged).kid).toBe(rsa.kid);
      await expect(verifier.verify(forged)).rejects.toMatchObject({
        status: 401,
        code: 'invalid_token',
        description: 'algorithm not allowed',
      });
      // And the RS256 ID token, whatever its typ, is no access token either.
      await expect(verifier.verify(String(tokens.id_token))).rejects.toMatchObject({ code: 'invalid_token' });
    } finally {
      verifier.close();
    }
  });
});
