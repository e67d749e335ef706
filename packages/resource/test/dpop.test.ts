import {
  constants,
  createHash,
  generateKeyPairSync,
  KeyObject,
  randomUUID,
  sign,
  type webcrypto,
} from 'node:crypto';
import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { type DpopKey, dpopKey, dpopProof } from '@gatehouse/testkit/dpop';
import { Redis } from 'ioredis';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AccessTokenVerifierOptions,
  BearerError,
  createAccessTokenVerifier,
  type DpopReplayStore,
  InvalidDpopProofError,
  MissingTokenError,
  memoryDpopReplayStore,
  redisDpopReplayStore,
  UseDpopNonceError,
} from '../src/index.ts';
import { AUDIENCE, NOW, NOW_SECONDS, startTestIssuer, type TestIssuer } from './issuer-fixture.ts';

const URL_ME = `${AUDIENCE}/me`;

/** A proof of `signer` for `GET /me` with `token`, issued at the frozen now; `header` as in forged proofs. */
function proof(signer: DpopKey, token: string, header: Record<string, unknown> = {}): Promise<string> {
  return dpopProof(signer, { htm: 'GET', htu: URL_ME, accessToken: token, iat: NOW_SECONDS }, header);
}

/** A compact JWS signed with node:crypto, for headers and payloads jose refuses to produce. */
function signRaw(signer: DpopKey, header: Record<string, unknown>, payload: unknown): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode(header)}.${encode(payload)}`;
  const signature = sign('sha256', Buffer.from(input), {
    key: KeyObject.from(signer.privateKey as webcrypto.CryptoKey),
    dsaEncoding: 'ieee-p1363',
  });
  return `${input}.${signature.toString('base64url')}`;
}

/** The outcome of `verifier` checking `token` with a fresh proof naming `htu`, for a GET received at `url`. */
async function outcomeForHtu(
  verifier: ReturnType<typeof createAccessTokenVerifier>,
  token: string,
  htu: string,
  url: string,
) {
  const dpop = await dpopProof(key, { htm: 'GET', htu, accessToken: token, iat: NOW_SECONDS });
  return outcome(() => verifier.verify(token, { scheme: 'DPoP', dpop, method: 'GET', url }));
}

let issuer: TestIssuer;
let key: DpopKey;
beforeAll(async () => {
  issuer = await startTestIssuer();
  // Extractable: signRaw signs with the key through node:crypto, and one test puts its private JWK in a proof.
  key = await dpopKey('ES256', { extractable: true });
});
afterAll(() => issuer.close());

function verifierFor(options: Partial<AccessTokenVerifierOptions> = {}) {
  return createAccessTokenVerifier({ issuer: issuer.issuer, audience: AUDIENCE, now: () => NOW, ...options });
}

const boundToken = (jkt = key.thumbprint) => issuer.mint({ claims: { cnf: { jkt } } });

/** What a client sees: status, error code, description and challenge, or 200. */
async function outcome(run: () => Promise<unknown>) {
  try {
    await run();
    return { status: 200 };
  } catch (err) {
    if (!(err instanceof BearerError)) throw err;
    return {
      status: err.status,
      code: err.code,
      description: err.description,
      challenge: err.wwwAuthenticate,
      headers: err.headers,
    };
  }
}

describe('verify(token, { scheme: "DPoP", … }) without a framework', () => {
  it('accepts a bound token with a proof of its key and exposes the binding', async () => {
    const verifier = verifierFor();
    const token = await boundToken();
    const auth = await verifier.verify(token, {
      scheme: 'DPoP',
      dpop: await proof(key, token),
      method: 'GET',
      url: URL_ME,
    });
    expect(auth.claims.cnf?.jkt).toBe(key.thumbprint);
  });

  it('accepts EdDSA proofs and refuses algorithms outside dpopAlgorithms', async () => {
    const ed = await dpopKey('EdDSA');
    const token = await boundToken(ed.thumbprint);
    const present = async (options: Partial<AccessTokenVerifierOptions>) =>
      outcome(async () =>
        verifierFor(options).verify(token, {
          scheme: 'DPoP',
          dpop: await proof(ed, token),
          method: 'GET',
          url: URL_ME,
        }),
      );
    expect((await present({})).status).toBe(200);
    const es256Only = await present({ dpopAlgorithms: ['ES256'] });
    expect(es256Only).toMatchObject({
      status: 401,
      code: 'invalid_dpop_proof',
      description: 'DPoP proof algorithm not allowed',
    });
    expect(es256Only.challenge).toMatch(/algs="ES256"/);
  });

  it.each([
    ['typ JWT', {}, { typ: 'JWT' }, 'DPoP proof typ must be dpop+jwt'],
    [
      'a critical extension',
      {},
      { crit: ['exp'], exp: 1 },
      'DPoP proof has unsupported critical header parameters',
    ],
    ['no iat', { iat: undefined }, {}, 'DPoP proof has no iat claim'],
    ['no jti', { jti: undefined }, {}, 'DPoP proof has no jti claim'],
    ['no htm', { htm: undefined }, {}, 'DPoP proof has no htm claim'],
    ['an htu that is no URL', { htu: 'not a url' }, {}, 'DPoP proof htu does not match the request URL'],
    ['a jti of 300 characters', { jti: 'j'.repeat(300) }, {}, 'invalid DPoP proof jti'],
    ['a payload that is no object', null, {}, 'malformed DPoP proof'],
  ])('refuses a proof with %s', async (_name, claims, header, description) => {
    const token = await boundToken();
    const payload =
      claims === null
        ? [1, 2]
        : {
            jti: randomUUID(),
            htm: 'GET',
            htu: URL_ME,
            iat: NOW_SECONDS,
            ath: createHash('sha256').update(token).digest('base64url'),
            ...claims,
          };
    const dpop = signRaw(key, { alg: 'ES256', typ: 'dpop+jwt', jwk: key.publicJwk, ...header }, payload);
    const result = await outcome(() =>
      verifierFor().verify(token, { scheme: 'DPoP', dpop, method: 'GET', url: URL_ME }),
    );
    expect(result).toMatchObject({ status: 401, code: 'invalid_dpop_proof', description });
  });

  it('matches htu after normalising it (RFC 9449 §4.3): scheme, host and default port as spelled, query and fragment ignored', async () => {
    const token = await boundToken();
    const withHtu = (htu: string) => outcomeForHtu(verifierFor(), token, htu, URL_ME);
    expect(await withHtu('HTTPS://API.Example.TEST:443/me?page=2#top')).toEqual({ status: 200 });
    expect(await withHtu('https://api.example.test/./me')).toEqual({ status: 200 });
    for (const other of [
      'https://api.example.test/me/',
      'https://api.example.test/ME',
      'http://api.example.test/me',
      'https://api.example.test:8443/me',
      'https://other.example.test/me',
    ]) {
      expect(await withHtu(other), other).toMatchObject({
        status: 401,
        code: 'invalid_dpop_proof',
        description: 'DPoP proof htu does not match the request URL',
      });
    }
  });

  it('behind a proxy, matches htu against dpopPublicOrigin and the path received', async () => {
    const token = await boundToken();
    const behindProxy = verifierFor({ dpopPublicOrigin: AUDIENCE });
    const withHtu = (htu: string) => outcomeForHtu(behindProxy, token, htu, 'http://10.0.0.7:3000/me?page=2');
    expect(await withHtu(URL_ME)).toEqual({ status: 200 });
    expect(await withHtu('http://10.0.0.7:3000/me')).toMatchObject({
      status: 401,
      description: 'DPoP proof htu does not match the request URL',
    });
    expect(() => verifierFor({ dpopPublicOrigin: 'mailto:api@example.test' })).toThrow(
      /dpopPublicOrigin must be an http or https origin/,
    );
  });

  it('refuses a proof whose jwk carries the private key, or whose key does not suit alg', async () => {
    const token = await boundToken();
    const privateJwk = await exportJWK(key.privateKey);
    const withPrivate = await outcome(async () =>
      verifierFor().verify(token, {
        scheme: 'DPoP',
        dpop: await proof(key, token, { jwk: privateJwk }),
        method: 'GET',
        url: URL_ME,
      }),
    );
    expect(withPrivate).toMatchObject({
      status: 401,
      code: 'invalid_dpop_proof',
      description: 'DPoP proof jwk contains a private key',
    });
    const ed = await dpopKey('EdDSA');
    const mismatched = await outcome(async () =>
      verifierFor().verify(token, {
        scheme: 'DPoP',
        dpop: await proof(key, token, { jwk: ed.publicJwk }),
        method: 'GET',
        url: URL_ME,
      }),
    );
    expect(mismatched).toMatchObject({
      status: 401,
      code: 'invalid_dpop_proof',
      description: 'DPoP proof jwk is not a usable public key',
    });
  });

  it('accepts a PS256 proof when allowed, and refuses an RSA key under 2048 bits', async () => {
    const present = async (modulusLength: number) => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
      const jwk = publicKey.export({ format: 'jwk' }) as JWK;
      const token = await boundToken(await calculateJwkThumbprint(jwk));
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const input = `${encode({ alg: 'PS256', typ: 'dpop+jwt', jwk })}.${encode({
        jti: randomUUID(),
        htm: 'GET',
        htu: URL_ME,
        iat: NOW_SECONDS,
        ath: createHash('sha256').update(token).digest('base64url'),
      })}`;
      const signature = sign('sha256', Buffer.from(input), {
        key: privateKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: 32,
      });
      const dpop = `${input}.${signature.toString('base64url')}`;
      return outcome(() =>
        verifierFor({ dpopAlgorithms: ['ES256', 'PS256'] }).verify(token, {
          scheme: 'DPoP',
          dpop,
          method: 'GET',
          url: URL_ME,
        }),
      );
    };
    expect((await present(2048)).status).toBe(200);
    expect(await present(1024)).toMatchObject({ status: 401, code: 'invalid_dpop_proof' });
  });

  it('refuses a tampered proof (signature) and never answers 500 to garbage', async () => {
    const token = await boundToken();
    const good = await proof(key, token);
    const [h, p, s] = good.split('.') as [string, string, string];
    const tampered = `${h}.${Buffer.from(JSON.stringify({ jti: 'x', htm: 'GET', htu: URL_ME, iat: NOW_SECONDS })).toString('base64url')}.${s}`;
    for (const [dpop, description] of [
      [tampered, 'DPoP proof signature invalid'],
      [`${h}.${p}.${s.slice(0, -4)}`, 'DPoP proof signature invalid'],
      [`${h}.${p}`, 'malformed DPoP proof'],
      [`${h}.${p}.${s}.x`, 'malformed DPoP proof'],
      [`e30.${p}.${s}`, 'DPoP proof typ must be dpop+jwt'],
      [`!!.${p}.${s}`, 'malformed DPoP proof'],
      [`${'a'.repeat(9000)}.${p}.${s}`, 'malformed DPoP proof'],
    ] as const) {
      const result = await outcome(() =>
        verifierFor().verify(token, { scheme: 'DPoP', dpop, method: 'GET', url: URL_ME }),
      );
      expect(result).toMatchObject({ status: 401, code: 'invalid_dpop_proof', description });
    }
  });

  it('answers 503 (never 200) when the replay store cannot answer, and the proof stays usable', async () => {
    const down: DpopReplayStore = { markUsed: () => Promise.reject(new Error('connection refused')) };
    const token = await boundToken();
    const dpop = await proof(key, token);
    const result = await outcome(() =>
      verifierFor({ dpopReplayStore: down, retryAfter: 3 }).verify(token, {
        scheme: 'DPoP',
        dpop,
        method: 'GET',
        url: URL_ME,
      }),
    );
    expect(result).toMatchObject({ status: 503, code: 'temporarily_unavailable' });
    expect(result.headers?.['Retry-After']).toBe('3');
    expect(
      (await outcome(() => verifierFor().verify(token, { scheme: 'DPoP', dpop, method: 'GET', url: URL_ME })))
        .status,
    ).toBe(200);
  });

  it('offers the schemes of its mode in every challenge', async () => {
    const challengeOf = (dpop: 'required' | 'allowed' | 'off') =>
      new MissingTokenError(verifierFor({ dpop }).challenge).wwwAuthenticate;
    expect(challengeOf('off')).toBe(`Bearer realm="${AUDIENCE}"`);
    expect(challengeOf('allowed')).toBe(
      `Bearer realm="${AUDIENCE}", DPoP realm="${AUDIENCE}", algs="ES256 EdDSA"`,
    );
    expect(challengeOf('required')).toBe(`DPoP realm="${AUDIENCE}", algs="ES256 EdDSA"`);
    const proofError = new InvalidDpopProofError(
      { realm: 'r"1', dpop: 'allowed', dpopAlgorithms: ['ES256'] },
      'bad "proof"',
    );
    expect(proofError.wwwAuthenticate).toBe(
      `DPoP realm="r\\"1", error="invalid_dpop_proof", error_description="bad 'proof'", algs="ES256", Bearer realm="r\\"1"`,
    );
    const nonce = new UseDpopNonceError({ realm: 'r', dpop: 'required' }, 'n-1');
    expect(nonce.headers).toEqual({
      'WWW-Authenticate':
        'DPoP realm="r", error="use_dpop_nonce", error_description="DPoP proof requires a nonce"',
      'DPoP-Nonce': 'n-1',
    });
  });

  it("with dpop: 'off', refuses bound tokens as Bearer (invalid_token) and treats DPoP credentials as none", async () => {
    const verifier = verifierFor({ dpop: 'off' });
    const token = await boundToken();
    const result = await outcome(() => verifier.verify(token));
    expect(result).toMatchObject({
      status: 401,
      code: 'invalid_token',
      description: 'DPoP-bound tokens are not accepted here',
    });
    expect(result.challenge).toBe(
      `Bearer realm="${AUDIENCE}", error="invalid_token", error_description="DPoP-bound tokens are not accepted here"`,
    );
    expect((await outcome(async () => verifier.verify(await issuer.mint()))).status).toBe(200);
  });

  it('refuses options it cannot honour at start', () => {
    expect(() => verifierFor({ dpop: 'maybe' as never })).toThrow(/dpop must be/);
    expect(() => verifierFor({ dpopAlgorithms: ['HS256' as never] })).toThrow(/not an allowed asymmetric/);
    expect(() => verifierFor({ dpopNonce: { secret: 'short' } })).toThrow(/at least 32 bytes/);
  });
});

describe('replay stores', () => {
  let redis: RedisProcess;
  let conn: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    conn = new Redis(redis.url);
  });
  afterAll(async () => {
    conn.disconnect();
    await redis.cleanup();
  });

  it('memory: once per key until the TTL passes; full means refused, not forgotten', async () => {
    let clock = 1_000_000;
    const store = memoryDpopReplayStore({ max: 2, now: () => clock });
    expect(await store.markUsed('a', 61)).toBe(true);
    expect(await store.markUsed('a', 61)).toBe(false);
    expect(await store.markUsed('b', 61)).toBe(true);
    await expect(store.markUsed('c', 61)).rejects.toThrow(/full/);
    clock += 62_000;
    expect(await store.markUsed('a', 61)).toBe(true);
    expect(await store.markUsed('c', 61)).toBe(true);
  });

  it('memory: 20,000 proofs through table growth and rebuilds, each accepted once, free again once expired', async () => {
    let clock = 5_000_000;
    const store = memoryDpopReplayStore({ max: 25_000, now: () => clock });
    const keys = Array.from({ length: 20_000 }, (_, i) =>
      createHash('sha256').update(`k${i}`).digest('base64url').slice(0, 22),
    );
    const first = await Promise.all(keys.map((k, i) => store.markUsed(k, i % 2 === 0 ? 10 : 100)));
    expect(first.every(Boolean)).toBe(true);
    const again = await Promise.all(keys.map((k) => store.markUsed(k, 10)));
    expect(again.some(Boolean)).toBe(false);
    clock += 20_000; // the 10 s half has expired, the 100 s half has not
    const later = await Promise.all(keys.map((k) => store.markUsed(k, 10)));
    expect(later.filter(Boolean)).toHaveLength(10_000);
    expect(later.every((accepted, i) => accepted === (i % 2 === 0))).toBe(true);
  });

  it('Redis: one SET NX EX per proof, so 50 concurrent uses of one key give exactly one true', async () => {
    const store = redisDpopReplayStore(conn, { prefix: 'test:dpop:' });
    const results = await Promise.all(Array.from({ length: 50 }, () => store.markUsed('k1', 61)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const ttl = await conn.ttl('test:dpop:k1');
    expect(ttl).toBeGreaterThan(55);
    expect(ttl).toBeLessThanOrEqual(61);
  });

  it('Redis down: the verifier answers 503, never accepts the proof unchecked', async () => {
    const dead = new Redis(`redis://127.0.0.1:1`, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    });
    dead.on('error', () => {});
    try {
      const token = await boundToken();
      const result = await outcome(async () =>
        verifierFor({ dpopReplayStore: redisDpopReplayStore(dead) }).verify(token, {
          scheme: 'DPoP',
          dpop: await proof(key, token),
          method: 'GET',
          url: URL_ME,
        }),
      );
      expect(result).toMatchObject({
        status: 503,
        code: 'temporarily_unavailable',
        description: 'DPoP replay check unavailable',
      });
    } finally {
      dead.disconnect();
    }
  });
});
