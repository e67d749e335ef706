import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { type DpopKey, dpopKey, dpopProof } from '@gatehouse/testkit/dpop';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLIENTS_WITH_DPOP, refreshForm, signInWithDpop, tokenRequest } from './dpop-support.ts';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Proofs an attacker (or a broken client) sends: each must be refused, at the token endpoint as
 * `400 invalid_dpop_proof` JSON and at userinfo as `401` with
 * `WWW-Authenticate: DPoP error="invalid_dpop_proof"` (RFC 9449 §5, §7.1), never a 500. A proof
 * whose only fault is its time (an `iat` outside the five minutes either way, a nonce this server
 * did not issue) is answered `use_dpop_nonce` with a fresh `DPoP-Nonce` instead (§8, §11.1): a
 * client with a wrong clock recovers with one retry carrying the nonce, an attacker gains nothing.
 */
type Attack = (key: DpopKey, htm: string, htu: string, accessToken?: string) => Promise<string> | string;

const now = () => Math.floor(Date.now() / 1000);

/** Attacks answered `use_dpop_nonce` (with a nonce to retry with) rather than `invalid_dpop_proof`. */
const RETRY_WITH_NONCE = new Set([
  'iat an hour old',
  'iat an hour ahead',
  'a nonce this server never issued',
]);
const errorFor = (name: string) => (RETRY_WITH_NONCE.has(name) ? 'use_dpop_nonce' : 'invalid_dpop_proof');

const ATTACKS: Record<string, Attack> = {
  'not a JWT': () => 'not-a-jwt',
  'three segments of garbage': () => 'a.b.c',
  'alg none': (key, htm, htu) =>
    `${b64({ alg: 'none', typ: 'dpop+jwt', jwk: key.publicJwk })}.${b64({ htm, htu, jti: randomUUID(), iat: now() })}.`,
  'HS256 keyed with the public JWK': async (key, htm, htu) =>
    new SignJWT({ htm, htu, jti: randomUUID() })
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: key.publicJwk })
      .setIssuedAt()
      .sign(new TextEncoder().encode(JSON.stringify(key.publicJwk))),
  'RS256 (not an advertised algorithm)': async (_key, htm, htu) => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    return new SignJWT({ htm, htu, jti: randomUUID() })
      .setProtectedHeader({ alg: 'RS256', typ: 'dpop+jwt', jwk: await exportJWK(publicKey) })
      .setIssuedAt()
      .sign(privateKey);
  },
  'a private key in the header': async (_key, htm, htu) => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = privateKey.export({ format: 'jwk' });
    return new SignJWT({ htm, htu, jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
      .setIssuedAt()
      .sign(privateKey);
  },
  'signed by another key than the header names': async (key, htm, htu) => {
    const other = await dpopKey();
    return dpopProof(other, { htm, htu }, { jwk: key.publicJwk });
  },
  'typ JWT': (key, htm, htu, accessToken) =>
    dpopProof(key, { htm, htu, ...(accessToken ? { accessToken } : {}) }, { typ: 'JWT' }),
  'htu of another endpoint': (key, htm, htu, accessToken) =>
    dpopProof(key, {
      htm,
      htu: htu.replace(/\/[^/]+$/, '/introspect'),
      ...(accessToken ? { accessToken } : {}),
    }),
  'htu of another server': (key, htm, htu, accessToken) =>
    dpopProof(key, {
      htm,
      htu: htu.replace(/^http:\/\/[^/]+/, 'https://evil.example'),
      ...(accessToken ? { accessToken } : {}),
    }),
  'htm of another method': (key, htm, htu, accessToken) =>
    dpopProof(key, { htm: htm === 'GET' ? 'POST' : 'GET', htu, ...(accessToken ? { accessToken } : {}) }),
  'iat an hour old': (key, htm, htu, accessToken) =>
    dpopProof(key, { htm, htu, iat: now() - 3600, ...(accessToken ? { accessToken } : {}) }),
  'iat an hour ahead': (key, htm, htu, accessToken) =>
    dpopProof(key, { htm, htu, iat: now() + 3600, ...(accessToken ? { accessToken } : {}) }),
  'a nonce this server never issued': (key, htm, htu, accessToken) =>
    dpopProof(key, { htm, htu, nonce: 'made-up-nonce', ...(accessToken ? { accessToken } : {}) }),
  'no jti': async (key, htm, htu) =>
    new SignJWT({ htm, htu, ath: undefined })
      .setProtectedHeader({ alg: key.alg, typ: 'dpop+jwt', jwk: key.publicJwk })
      .setIssuedAt()
      .sign(key.privateKey),
};

describe('malformed and forged DPoP proofs (real server)', () => {
  let key: DpopKey;
  let refreshToken: string;
  let accessToken: string;
  const gh = suiteGatehouse({ gatehouse: { clients: CLIENTS_WITH_DPOP }, redis: false });
  beforeAll(async () => {
    key = await dpopKey();
    const issued = await signInWithDpop(gh, key, { scope: 'openid offline_access' });
    refreshToken = String(issued.body.refresh_token);
    accessToken = String(issued.body.access_token);
  });

  it.each(Object.keys(ATTACKS))('token endpoint, %s: 400 JSON error, nothing spent', async (name) => {
    const attack = ATTACKS[name] as Attack;
    const htu = `${gh.issuer}/token`;
    const answer = await tokenRequest(gh.issuer, refreshForm(refreshToken), undefined, {
      dpop: await attack(key, 'POST', htu),
    });
    expect({ status: answer.status, error: answer.body.error }).toEqual({
      status: 400,
      error: errorFor(name),
    });
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    if (RETRY_WITH_NONCE.has(name)) expect(answer.headers.get('dpop-nonce')).toBeTruthy();
  });

  it('token endpoint, two DPoP headers: 400, never a 500', async () => {
    const htu = `${gh.issuer}/token`;
    const response = await fetch(`${gh.issuer}/token`, {
      method: 'POST',
      headers: [
        ['content-type', 'application/x-www-form-urlencoded'],
        ['dpop', await dpopProof(key, { htm: 'POST', htu })],
        ['dpop', await dpopProof(key, { htm: 'POST', htu })],
      ],
      body: new URLSearchParams(refreshForm(refreshToken)),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_dpop_proof');
  });

  it.each(Object.keys(ATTACKS))('userinfo, %s: 401 with WWW-Authenticate DPoP error', async (name) => {
    const attack = ATTACKS[name] as Attack;
    const htu = `${gh.issuer}/userinfo`;
    const response = await fetch(htu, {
      headers: { authorization: `DPoP ${accessToken}`, dpop: await attack(key, 'GET', htu, accessToken) },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(new RegExp(`^DPoP .*error="${errorFor(name)}"`));
  });

  it('userinfo, a proof without ath, or with the hash of another token: 401 invalid_dpop_proof', async () => {
    const htu = `${gh.issuer}/userinfo`;
    for (const proof of [
      await dpopProof(key, { htm: 'GET', htu }),
      await dpopProof(key, { htm: 'GET', htu, accessToken: `${accessToken}x` }),
    ]) {
      const response = await fetch(htu, { headers: { authorization: `DPoP ${accessToken}`, dpop: proof } });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_dpop_proof"/);
    }
    // A proof beside a token sent as Bearer: RFC 9449 §7.1 wants the DPoP scheme, so invalid_request.
    const asBearer = await fetch(htu, {
      headers: {
        authorization: `Bearer ${accessToken}`,
        dpop: await dpopProof(key, { htm: 'GET', htu, accessToken }),
      },
    });
    expect(asBearer.status).toBe(400);
    expect(asBearer.headers.get('www-authenticate')).toMatch(/error="invalid_request"/);
  });

  it('after every attack, the holder’s refresh token and access token still work', async () => {
    const refreshed = await tokenRequest(gh.issuer, refreshForm(refreshToken), key);
    expect(refreshed.status).toBe(200);
    const htu = `${gh.issuer}/userinfo`;
    const response = await fetch(htu, {
      headers: {
        authorization: `DPoP ${accessToken}`,
        dpop: await dpopProof(key, { htm: 'GET', htu, accessToken }),
      },
    });
    expect(response.status).toBe(200);
  });
});
