import { createHmac, KeyObject, sign } from 'node:crypto';
import { base64url, CompactSign } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type AccessTokenVerifierOptions,
  BearerError,
  createAccessTokenVerifier,
  type RevocationEvent,
  type RevocationSource,
} from '../src/index.ts';
import {
  AUDIENCE,
  createTestKey,
  NOW,
  NOW_SECONDS,
  startTestIssuer,
  type TestIssuer,
} from './issuer-fixture.ts';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startTestIssuer();
});
afterAll(() => issuer.close());
afterEach(() => {
  vi.useRealTimers();
  issuer.published = [...issuer.keys];
  issuer.jwksDown = false;
});

function verifierFor(options: Partial<AccessTokenVerifierOptions> = {}) {
  return createAccessTokenVerifier({ issuer: issuer.issuer, audience: AUDIENCE, now: () => NOW, ...options });
}

/** The verifier's verdict as a user sees it: status, code and description. */
async function verdict(token: string, options: Partial<AccessTokenVerifierOptions> = {}) {
  try {
    const result = await verifierFor(options).verify(token);
    return { status: 200, sub: result.sub };
  } catch (err) {
    if (!(err instanceof BearerError)) throw err;
    return { status: err.status, code: err.code, description: err.description };
  }
}

function unsigned(header: object, claims: object, signature = ''): string {
  const encode = (value: object) => base64url.encode(JSON.stringify(value));
  return `${encode(header)}.${encode(claims)}.${signature}`;
}

describe('createAccessTokenVerifier', () => {
  it('accepts a valid ES256 and EdDSA access token and exposes who it speaks for', async () => {
    const eddsa = await createTestKey('EdDSA');
    issuer.keys.push(eddsa);
    issuer.published = [...issuer.keys];
    const verifier = verifierFor();
    for (const key of issuer.keys) {
      const result = await verifier.verify(await issuer.mint({ key }));
      expect(result).toMatchObject({
        sub: 'user-1',
        clientId: 'spa',
        scopes: ['openid', 'recipes:read'],
      });
      expect(result.claims.gid).toBe('grant-1');
    }
  });

  it('accepts typ application/at+jwt and an audience array containing ours', async () => {
    const token = await issuer.mint({
      header: { typ: 'application/at+jwt' },
      claims: { aud: ['https://other.example.test', AUDIENCE] },
    });
    expect(await verdict(token)).toEqual({ status: 200, sub: 'user-1' });
  });

  const rejections: [string, () => Promise<string>, string][] = [
    [
      'an ID token (typ JWT)',
      () => issuer.mint({ header: { typ: 'JWT' } }),
      'not an access token (typ must be at+jwt)',
    ],
    ['no typ', () => issuer.mint({ header: { typ: undefined } }), 'not an access token (typ must be at+jwt)'],
    [
      'a wrong issuer',
      () => issuer.mint({ claims: { iss: 'https://evil.example.test' } }),
      'invalid iss claim',
    ],
    [
      'a wrong audience',
      () => issuer.mint({ claims: { aud: 'https://other.example.test' } }),
      'invalid aud claim',
    ],
    ['an expired token', () => issuer.mint({ claims: { exp: NOW_SECONDS - 60 } }), 'token expired'],
    ['nbf in the future', () => issuer.mint({ claims: { nbf: NOW_SECONDS + 60 } }), 'token not yet valid'],
    [
      'iat in the future',
      () => issuer.mint({ claims: { iat: NOW_SECONDS + 60 } }),
      'token issued in the future',
    ],
    ['missing exp', () => issuer.mint({ claims: { exp: undefined } }), 'missing exp claim'],
    ['missing iat', () => issuer.mint({ claims: { iat: undefined } }), 'missing iat claim'],
    ['missing sub', () => issuer.mint({ claims: { sub: undefined } }), 'missing sub claim'],
    ['missing client_id', () => issuer.mint({ claims: { client_id: undefined } }), 'missing client_id claim'],
    ['missing jti', () => issuer.mint({ claims: { jti: undefined } }), 'missing jti claim'],
    ['missing iss', () => issuer.mint({ claims: { iss: undefined } }), 'missing iss claim'],
    ['missing aud', () => issuer.mint({ claims: { aud: undefined } }), 'missing aud claim'],
    ['a non-string client_id', () => issuer.mint({ claims: { client_id: 42 } }), 'invalid client_id claim'],
    ['garbage', async () => 'garbage', 'malformed token'],
    // An opaque refresh token (oidc-provider style, 43 base64url characters) presented as an access token.
    ['a refresh token', async () => 'dGhpcy1pcy1hbi1vcGFxdWUtcmVmcmVzaC10b2tlbjAx', 'malformed token'],
    ['three garbage segments', async () => 'a.b.c', 'malformed token'],
    [
      'a foreign key with a known kid',
      async () => issuer.mint({ key: await createTestKey('ES256', issuer.keys[0]!.kid) }),
      'signature verification failed',
    ],
    ['an unknown kid', async () => issuer.mint({ key: await createTestKey('ES256') }), 'no matching key'],
    [
      'a tampered payload',
      async () => {
        const [header, , signature] = (await issuer.mint()).split('.');
        const claims = {
          iss: issuer.issuer,
          sub: 'admin',
          aud: AUDIENCE,
          client_id: 'x',
          iat: NOW_SECONDS,
          exp: NOW_SECONDS + 60,
          jti: 'j',
        };
        return `${header}.${base64url.encode(JSON.stringify(claims))}.${signature}`;
      },
      'signature verification failed',
    ],
    [
      'alg none',
      async () => {
        const claims = JSON.parse(
          new TextDecoder().decode(base64url.decode((await issuer.mint()).split('.')[1]!)),
        );
        return unsigned({ alg: 'none', typ: 'at+jwt' }, claims);
      },
      'algorithm not allowed',
    ],
    [
      'HS256 signed with the published public key (key confusion)',
      async () => {
        const claims = JSON.parse(
          new TextDecoder().decode(base64url.decode((await issuer.mint()).split('.')[1]!)),
        );
        const jwk = issuer.keys[0]!.publicJwk;
        const signingInput = unsigned({ alg: 'HS256', typ: 'at+jwt', kid: jwk.kid }, claims).slice(0, -1);
        // The classic attack: the server's public key, as the attacker can fetch it, used as the HMAC secret.
        const mac = createHmac('sha256', JSON.stringify(jwk)).update(signingInput).digest('base64url');
        return `${signingInput}.${mac}`;
      },
      'algorithm not allowed',
    ],
    ['an ES256 token when only EdDSA is allowed', () => issuer.mint(), 'algorithm not allowed'],
  ];

  it.each(rejections)('rejects %s with 401 invalid_token', async (name, makeToken, description) => {
    const options: Partial<AccessTokenVerifierOptions> = name.startsWith('an ES256 token')
      ? { algorithms: ['EdDSA'] }
      : {};
    expect(await verdict(await makeToken(), options)).toEqual({
      status: 401,
      code: 'invalid_token',
      description,
    });
  });

  it('accepts exp and iat within the clock tolerance', async () => {
    const token = await issuer.mint({ claims: { exp: NOW_SECONDS - 3, iat: NOW_SECONDS + 3 } });
    expect((await verdict(token)).status).toBe(200);
    expect((await verdict(token, { clockTolerance: 0 })).status).toBe(401);
  });

  it('refuses tokens over 8 KiB before parsing them, up to a 1 MB one', async () => {
    const large = await issuer.mint({ claims: { padding: 'x'.repeat(8192) } });
    expect(await verdict(large)).toMatchObject({ status: 401, description: 'token too large' });
    expect(await verdict('a'.repeat(1024 * 1024))).toMatchObject({
      status: 401,
      description: 'token too large',
    });
  });

  it('refuses none and symmetric algorithms in the allow-list itself', () => {
    // biome-ignore lint/suspicious/noExplicitAny: a JavaScript caller can pass what the types forbid.
    expect(() => verifierFor({ algorithms: ['HS256' as any] })).toThrow(TypeError);
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    expect(() => verifierFor({ algorithms: ['none' as any] })).toThrow(TypeError);
  });

  it('refuses an issuer whose discovery document names another issuer (503, not 200)', async () => {
    const verifier = createAccessTokenVerifier({
      issuer: `${issuer.issuer}/`,
      audience: AUDIENCE,
      now: () => NOW,
    });
    await expect(verifier.verify(await issuer.mint())).rejects.toMatchObject({ status: 503 });
  });
});

describe('tokens whose signature holds but whose content is not a JWT', () => {
  /** A compact JWS over arbitrary payload bytes, validly signed with the issuer's key. */
  async function signedPayload(payload: Uint8Array, header: Record<string, unknown> = {}): Promise<string> {
    const key = issuer.keys[0]!;
    return new CompactSign(payload)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header })
      .sign(key.privateKey);
  }

  it.each([
    ['a payload that is not JSON', new TextEncoder().encode('not json')],
    ['a JSON array payload', new TextEncoder().encode('[1,2,3]')],
    ['a JSON string payload', new TextEncoder().encode('"claims"')],
    ['a payload that is not UTF-8', Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d])],
  ])('answers 401 invalid_token, not 500, to %s', async (_name, payload) => {
    expect(await verdict(await signedPayload(payload), { cache: false })).toEqual({
      status: 401,
      code: 'invalid_token',
      description: 'malformed token',
    });
  });

  it('answers 401 invalid_token to a header that is not JSON, with or without a valid payload', async () => {
    const [, payload, signature] = (await issuer.mint()).split('.');
    for (const header of ['bm90IGpzb24', base64url.encode('[]'), base64url.encode('{"alg":"ES256"')]) {
      expect(await verdict(`${header}.${payload}.${signature}`)).toMatchObject({
        status: 401,
        code: 'invalid_token',
      });
    }
  });

  it('checks typ and crit of every token, also after tokens of the same key were accepted', async () => {
    const verifier = verifierFor({ cache: false });
    await verifier.verify(await issuer.mint());
    await expect(verifier.verify(await issuer.mint({ header: { typ: 'JWT' } }))).rejects.toMatchObject({
      status: 401,
      description: 'not an access token (typ must be at+jwt)',
    });
    // jose will not sign an unknown critical header; node:crypto signs what it is given.
    const key = issuer.keys[0]!;
    const [, payload] = (await issuer.mint()).split('.');
    const header = {
      alg: 'ES256',
      kid: key.kid,
      typ: 'at+jwt',
      crit: ['urn:example:unknown'],
      'urn:example:unknown': 1,
    };
    const signingInput = `${base64url.encode(JSON.stringify(header))}.${payload}`;
    const signature = sign('sha256', Buffer.from(signingInput), {
      key: KeyObject.from(key.privateKey),
      dsaEncoding: 'ieee-p1363',
    });
    const critical = `${signingInput}.${signature.toString('base64url')}`;
    await expect(verifier.verify(critical)).rejects.toMatchObject({ status: 401, code: 'invalid_token' });
    expect((await verifier.verify(await issuer.mint())).sub).toBe('user-1');
  });
});

describe('key rotation', () => {
  it('accepts a token signed by a newly published key after exactly one refetch', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const verifier = verifierFor();
    expect((await verifier.verify(await issuer.mint())).sub).toBe('user-1');
    const before = issuer.jwksRequests;
    const next = await createTestKey('ES256');
    issuer.keys.push(next);
    issuer.published = [...issuer.keys];
    vi.setSystemTime(Date.now() + 31_000); // past the 30 s refetch cooldown
    expect((await verifier.verify(await issuer.mint({ key: next }))).sub).toBe('user-1');
    expect(issuer.jwksRequests).toBe(before + 1);
  });

  it('refuses tokens of a key the issuer withdrew once a refetch brought the new key set', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const verifier = verifierFor({ cache: false });
    const old = issuer.keys[0]!;
    expect((await verifier.verify(await issuer.mint())).sub).toBe('user-1');
    const next = await createTestKey('ES256');
    issuer.keys.push(next);
    issuer.published = [next];
    vi.setSystemTime(Date.now() + 31_000);
    // The new kid refetches the JWKS, which no longer lists the old key.
    expect((await verifier.verify(await issuer.mint({ key: next }))).sub).toBe('user-1');
    await expect(verifier.verify(await issuer.mint({ key: old }))).rejects.toMatchObject({
      status: 401,
      description: 'no matching key',
    });
    issuer.keys.pop();
  });

  it('refetches a JWKS older than its max age, and drops the keys it no longer lists', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const verifier = verifierFor({ cache: false });
    await verifier.verify(await issuer.mint());
    await verifier.verify(await issuer.mint());
    const before = issuer.jwksRequests;
    const next = await createTestKey('ES256');
    issuer.published = [next];
    vi.setSystemTime(Date.now() + 11 * 60_000); // past the 10 min max age
    await expect(verifier.verify(await issuer.mint())).rejects.toMatchObject({
      status: 401,
      description: 'no matching key',
    });
    expect(issuer.jwksRequests).toBe(before + 1);
  });

  it('does not refetch for unknown kids within the cooldown', async () => {
    const verifier = verifierFor();
    await verifier.verify(await issuer.mint());
    const before = issuer.jwksRequests;
    for (let i = 0; i < 5; i++) {
      await expect(verifier.verify(await issuer.mint({ key: await createTestKey() }))).rejects.toMatchObject({
        status: 401,
        description: 'no matching key',
      });
    }
    expect(issuer.jwksRequests).toBe(before);
  });
});

describe('issuer keys unavailable', () => {
  it('answers 503 with Retry-After when the JWKS is down and nothing is cached', async () => {
    issuer.jwksDown = true;
    const verifier = verifierFor({ retryAfter: 7 });
    const error = await verifier.verify(await issuer.mint()).catch((err: unknown) => err);
    expect(error).toMatchObject({ status: 503, code: 'temporarily_unavailable' });
    expect((error as BearerError).headers['Retry-After']).toBe('7');
  });

  it('answers 503 when the issuer is unreachable', async () => {
    const gone = await startTestIssuer();
    const token = await gone.mint();
    await gone.close();
    const verifier = createAccessTokenVerifier({ issuer: gone.issuer, audience: AUDIENCE, now: () => NOW });
    await expect(verifier.verify(token)).rejects.toMatchObject({
      status: 503,
      code: 'temporarily_unavailable',
    });
  });

  it('keeps verifying with the keys it has when a JWKS refresh fails', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const verifier = verifierFor({ cache: false });
    await verifier.verify(await issuer.mint());
    issuer.jwksDown = true;
    vi.setSystemTime(Date.now() + 11 * 60_000); // the JWKS is now older than its 10 min max age
    expect((await verifier.verify(await issuer.mint())).sub).toBe('user-1');
  });
});

describe('result cache', () => {
  function emitter() {
    const listeners = new Set<(event: RevocationEvent) => void>();
    const source: RevocationSource = {
      subscribe(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
    const emit = (event: RevocationEvent) => {
      for (const listener of listeners) listener(event);
    };
    return { source, emit };
  }

  it('serves a repeated token from the cache until its exp', async () => {
    let now = NOW;
    const verifier = verifierFor({ now: () => now });
    const token = await issuer.mint();
    const first = await verifier.verify(token);
    expect(await verifier.verify(token)).toBe(first);
    now = new Date((NOW_SECONDS + 901 + 5) * 1000);
    await expect(verifier.verify(token)).rejects.toMatchObject({ status: 401, description: 'token expired' });
  });

  it('rejects a cached token once its grant is revoked', async () => {
    const { source, emit } = emitter();
    const verifier = verifierFor({ revocations: source });
    const token = await issuer.mint({ claims: { gid: 'grant-cached' } });
    const other = await issuer.mint({ claims: { gid: 'grant-other' } });
    await verifier.verify(token);
    await verifier.verify(other);
    emit({ type: 'grant', id: 'grant-cached', exp: NOW_SECONDS + 900 });
    await expect(verifier.verify(token)).rejects.toMatchObject({ status: 401, description: 'token revoked' });
    expect((await verifier.verify(other)).sub).toBe('user-1');
    verifier.close();
  });

  it('honours revocations listed at start', async () => {
    const token = await issuer.mint({ claims: { gid: 'grant-listed' } });
    const source: RevocationSource = {
      subscribe: () => () => {},
      list: async () => [{ type: 'grant', id: 'grant-listed', exp: NOW_SECONDS + 900 }],
    };
    await expect(verifierFor({ revocations: source }).verify(token)).rejects.toMatchObject({
      status: 401,
      description: 'token revoked',
    });
  });

  it('answers 503 while the revocation list cannot be loaded, then recovers', async () => {
    let fail = true;
    const source: RevocationSource = {
      subscribe: () => () => {},
      list: async () => {
        if (fail) throw new Error('redis down');
        return [];
      },
    };
    const verifier = verifierFor({ revocations: source });
    const token = await issuer.mint();
    await expect(verifier.verify(token)).rejects.toMatchObject({ status: 503 });
    fail = false;
    expect((await verifier.verify(token)).sub).toBe('user-1');
  });
});
