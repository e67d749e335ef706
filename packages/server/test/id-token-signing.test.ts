import { readFileSync } from 'node:fs';
import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { API, basic, REDIRECT_URI, TEST_CLIENTS } from '@gatehouse/testkit/clients';
import { postForm } from '@gatehouse/testkit/forms';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { authorize, pkce } from '@gatehouse/testkit/sign-in';
import { Redis } from 'ioredis';
import { createRemoteJWKSet, decodeProtectedHeader, importJWK, type JWK, jwtVerify, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ID_TOKEN_TTL } from '../src/oidc-provider/configuration.ts';
import { loadKeys, RedisKeyRepository, rotateSigningKey } from '../src/signing-keys/index.ts';

// OIDC Core §15.1 / Registration §2: a relying party that registers no ID token algorithm gets
// RS256, the one every OpenID Connect library verifies out of the box. Access tokens stay on
// the main key's algorithm.

/** `gatehouse:keys` as the release before RS256 keys wrote it (see the fixture's note). */
const stored = JSON.parse(
  readFileSync(new URL('./fixtures/signing-keys-without-rsa.json', import.meta.url), 'utf8'),
) as { secret: string; stored: string };
/** The fixture's generation that was active when it was written. */
const STORED_ACTIVE_KID = 'MQod78Vcji_NLcgHxHeWz_sWWVI5BEWjEZdjAnkOAP4';

const ES256_CLIENT = 'es256-web';
const ES256_SECRET = 'es256-web-secret-0123456789abcdef012345';

describe('ID token signing algorithms', () => {
  let redis: RedisProcess;
  let gh: StartedGatehouse;
  beforeAll(async () => {
    redis = await startRedis();
    // The server starts on keys an earlier release stored, without an RSA key.
    const seed = new Redis(redis.url);
    await seed.set('gatehouse:keys', stored.stored);
    seed.disconnect();
    gh = await startGatehouse({
      redis,
      // A 1-second JWKS max-age makes the pre-publication window short enough to watch.
      env: { JWKS_MAX_AGE: '1', GATEHOUSE_SECRET: stored.secret },
      gatehouse: {
        keyPollSeconds: 0.2,
        clients: [
          ...TEST_CLIENTS,
          {
            client_id: ES256_CLIENT,
            client_secret: ES256_SECRET,
            token_endpoint_auth_method: 'client_secret_basic',
            grant_types: ['authorization_code', 'refresh_token'],
            redirect_uris: [REDIRECT_URI],
            id_token_signed_response_alg: 'ES256',
          },
        ],
      },
    });
  });
  afterAll(async () => {
    await gh?.stop();
    await redis?.cleanup();
  });

  const jwks = async () => ((await (await fetch(`${gh.issuer}/jwks`)).json()) as { keys: JWK[] }).keys;
  /** What a relying party does with an ID token: check it against the JWKS it just fetched. */
  const verifyIdToken = (token: string, audience: string) =>
    jwtVerify(token, createRemoteJWKSet(new URL(`${gh.issuer}/jwks`)), { issuer: gh.issuer, audience });

  /** The code flow as a relying party configured with `metadata` does it (openid-client). */
  async function codeFlow(clientId: string, metadata: Partial<oidc.ClientMetadata> = {}) {
    const auth = clientId === ES256_CLIENT ? oidc.ClientSecretBasic(ES256_SECRET) : oidc.None();
    const client = await oidc.discovery(new URL(gh.issuer), clientId, metadata, auth, {
      execute: [oidc.allowInsecureRequests],
    });
    // Verify ID token signatures against the JWKS as well, not only their claims.
    oidc.enableNonRepudiationChecks(client);
    const p = await pkce();
    const url = oidc.buildAuthorizationUrl(client, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid recipes:read',
      code_challenge: p.challenge,
      code_challenge_method: 'S256',
      state: p.state,
    });
    const callback = await authorize(gh.server, url, 'rs256-user');
    const tokens = await oidc.authorizationCodeGrant(client, callback, {
      pkceCodeVerifier: p.verifier,
      expectedState: p.state,
    });
    return { idToken: String(tokens.id_token), accessToken: tokens.access_token };
  }

  it('adds an RS256 key to keys stored without one and publishes it beside the stored key', async () => {
    const keys = await jwks();
    expect(keys.map((key) => [key.kid, key.kty, key.alg, key.use])).toEqual([
      [STORED_ACTIVE_KID, 'EC', 'ES256', 'sig'],
      [expect.stringMatching(/^[\w-]{43}$/), 'RSA', 'RS256', 'sig'],
    ]);
    for (const key of keys)
      for (const field of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(field);
    const [generation] = await loadKeys(new RedisKeyRepository(requireConnection()), stored.secret).then(
      (r) => r.filter((record) => record.kid === STORED_ACTIVE_KID),
    );
    expect(generation?.rsa?.kid).toBe(keys[1]?.kid);
  });

  it('advertises RS256 for ID tokens in discovery', async () => {
    const metadata = (await (await fetch(`${gh.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      string[]
    >;
    expect(metadata.id_token_signing_alg_values_supported).toEqual(
      expect.arrayContaining(['RS256', 'ES256']),
    );
  });

  it('signs RS256 ID tokens for a relying party on its library defaults, and keeps access tokens ES256', async () => {
    const rsaKid = (await jwks()).find((key) => key.alg === 'RS256')?.kid;
    // openid-client with nothing configured: it accepts what discovery advertises.
    const defaults = await codeFlow('spa');
    expect(decodeProtectedHeader(defaults.idToken)).toMatchObject({ alg: 'RS256', kid: rsaKid });
    await expect(verifyIdToken(defaults.idToken, 'spa')).resolves.toBeDefined();
    // express-openid-connect's default: the client insists on RS256 (idTokenSigningAlg).
    const strict = await codeFlow('spa', { id_token_signed_response_alg: 'RS256' });
    expect(decodeProtectedHeader(strict.idToken).alg).toBe('RS256');

    // The access token of the same flow, and a client-credentials one, keep the main key.
    expect(decodeProtectedHeader(defaults.accessToken)).toMatchObject({
      alg: 'ES256',
      kid: STORED_ACTIVE_KID,
    });
    const service = await postForm(
      `${gh.issuer}/token`,
      { grant_type: 'client_credentials', scope: 'recipes:read', resource: API },
      basic('service', 'service-secret-0123456789abcdef0123456789'),
    );
    expect(service.status).toBe(200);
    expect(decodeProtectedHeader(String(service.body.access_token))).toMatchObject({
      alg: 'ES256',
      typ: 'at+jwt',
    });
  });

  it('signs ES256 ID tokens for a client that registered ES256', async () => {
    const { idToken } = await codeFlow(ES256_CLIENT, { id_token_signed_response_alg: 'ES256' });
    expect(decodeProtectedHeader(idToken)).toMatchObject({ alg: 'ES256', kid: STORED_ACTIVE_KID });
    await expect(verifyIdToken(idToken, ES256_CLIENT)).resolves.toBeDefined();
  });

  it('does not take an RS256-signed JWT, even from its own RSA key, as an access token at introspection', async () => {
    const { accessToken } = await codeFlow(ES256_CLIENT, { id_token_signed_response_alg: 'ES256' });
    const records = await loadKeys(new RedisKeyRepository(requireConnection()), stored.secret);
    const rsa = records.find((record) => record.rsa !== undefined)?.rsa;
    if (!rsa) throw new Error('expected an RS256 key');
    // The same claims and typ, signed by the published RSA key instead of the main key.
    const claims = JSON.parse(Buffer.from(String(accessToken.split('.')[1]), 'base64url').toString());
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: rsa.kid })
      .sign(await importJWK(rsa.jwk, 'RS256'));
    const introspect = async (token: string) =>
      (await postForm(`${gh.issuer}/introspect`, { token }, basic(ES256_CLIENT, ES256_SECRET))).body.active;
    expect(await introspect(accessToken)).toBe(true);
    expect(await introspect(forged)).toBe(false);
  });

  it('rotates the RSA key with the generation: new ID tokens use the new key once it activates, old ones keep verifying', async () => {
    const before = await codeFlow('spa');
    const oldRsaKid = decodeProtectedHeader(before.idToken).kid;
    const { added } = await rotateSigningKey(new RedisKeyRepository(requireConnection()), stored.secret, {
      jwksMaxAge: 1,
      accessTokenTTL: ID_TOKEN_TTL,
    });
    const newRsaKid = added.rsa?.kid;
    expect(newRsaKid).toMatch(/^[\w-]{43}$/);

    // Pre-publication: both RSA keys are in the JWKS before the new one signs.
    let kids: (string | undefined)[] = [];
    for (let i = 0; i < 50 && !kids.includes(newRsaKid); i++) {
      kids = (await jwks()).map((key) => key.kid);
      if (!kids.includes(newRsaKid)) await new Promise((r) => setTimeout(r, 50));
    }
    expect(kids).toEqual(expect.arrayContaining([oldRsaKid, newRsaKid, added.kid, STORED_ACTIVE_KID]));

    let after = before;
    for (let i = 0; i < 100 && decodeProtectedHeader(after.idToken).kid === oldRsaKid; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await codeFlow('spa');
    }
    expect(decodeProtectedHeader(after.idToken)).toMatchObject({ alg: 'RS256', kid: newRsaKid });
    expect(decodeProtectedHeader(after.accessToken)).toMatchObject({ alg: 'ES256', kid: added.kid });
    // The ID token signed before the rotation still verifies against the JWKS served now.
    await expect(verifyIdToken(before.idToken, 'spa')).resolves.toBeDefined();
    await expect(verifyIdToken(after.idToken, 'spa')).resolves.toBeDefined();
    // A client that registered ES256 follows the main key.
    const es256 = await codeFlow(ES256_CLIENT, { id_token_signed_response_alg: 'ES256' });
    expect(decodeProtectedHeader(es256.idToken)).toMatchObject({ alg: 'ES256', kid: added.kid });
  });

  function requireConnection() {
    const connection = gh.server.store.connection;
    if (!connection) throw new Error('expected a Redis store');
    return connection;
  }
});
