import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { type DpopKey, dpopKey, dpopProof } from '@gatehouse/testkit/dpop';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOW_SECONDS, type RunningApi, startApi, startTestIssuer, type TestIssuer } from './fixtures.ts';

// RFC 9449 at the demo API: DPoP-bound tokens (cnf.jkt) only with a fresh proof of their key for this very
// request, unbound tokens as Bearer, and every failure a 401 with a `DPoP` challenge the client can act on.
let issuer: TestIssuer;
let running: RunningApi;
let key: DpopKey;
beforeAll(async () => {
  issuer = await startTestIssuer();
  running = await startApi(issuer);
  key = await dpopKey();
});
afterAll(async () => {
  await running.close();
  await issuer.close();
});

/** A proof of `signer` for one request, issued at the tests' frozen now. */
const proof = (
  signer: DpopKey,
  htm: string,
  htu: string,
  accessToken: string | undefined,
  claims: { iat?: number; nonce?: string } = {},
) => dpopProof(signer, { htm, htu, accessToken, iat: NOW_SECONDS, ...claims });

const bound = (api: RunningApi, jkt = key.thumbprint, claims: Record<string, unknown> = {}) =>
  issuer.mint(api.url, { cnf: { jkt }, ...claims });

function call(url: string, headers: Record<string, string>, method = 'GET') {
  return fetch(url, { method, headers });
}

async function expectDpopError(response: Response, error = 'invalid_dpop_proof', description?: string) {
  expect(response.status).toBe(401);
  const challenge = response.headers.get('www-authenticate') ?? '';
  // The challenge carrying the error comes first and is the DPoP one; Bearer is still offered.
  expect(challenge).toMatch(new RegExp(`^DPoP realm="[^"]+", error="${error}"`));
  expect(challenge).toContain('algs="ES256 EdDSA"');
  expect(challenge).toMatch(/, Bearer realm="[^"]+"/);
  const body = await response.json();
  expect(body.error).toBe(error);
  if (description !== undefined) expect(body.error_description).toBe(description);
}

describe('DPoP-bound tokens at the demo API', () => {
  it('answers 200 to a bound token with a proof of its key for this request', async () => {
    const token = await bound(running);
    const url = `${running.url}/me`;
    const response = await call(url, {
      authorization: `DPoP ${token}`,
      dpop: await proof(key, 'GET', url, token),
    });
    expect(response.status).toBe(200);
    expect((await response.json()).sub).toBe('alice');
  });

  it('refuses a bound token sent as Bearer (no downgrade to a bearer token)', async () => {
    const token = await bound(running);
    const response = await call(`${running.url}/me`, { authorization: `Bearer ${token}` });
    await expectDpopError(response, 'invalid_dpop_proof', 'DPoP-bound token sent as Bearer');
  });

  it('refuses a proof signed by another key than the one the token is bound to', async () => {
    const token = await bound(running);
    const url = `${running.url}/me`;
    const other = await dpopKey();
    const response = await call(url, {
      authorization: `DPoP ${token}`,
      dpop: await proof(other, 'GET', url, token),
    });
    await expectDpopError(
      response,
      'invalid_dpop_proof',
      'DPoP proof key does not match the token binding (cnf.jkt)',
    );
  });

  it('accepts a proof once: the same proof again is refused', async () => {
    const token = await bound(running);
    const url = `${running.url}/me`;
    const headers = { authorization: `DPoP ${token}`, dpop: await proof(key, 'GET', url, token) };
    expect((await call(url, headers)).status).toBe(200);
    await expectDpopError(await call(url, headers), 'invalid_dpop_proof', 'DPoP proof replayed');
  });

  it('refuses a proof made for another method or another URL', async () => {
    const token = await bound(running);
    const url = `${running.url}/me`;
    const forPost = await call(url, {
      authorization: `DPoP ${token}`,
      dpop: await proof(key, 'POST', url, token),
    });
    await expectDpopError(forPost, 'invalid_dpop_proof', 'DPoP proof htm does not match the request method');
    const forOtherPath = await call(url, {
      authorization: `DPoP ${token}`,
      dpop: await proof(key, 'GET', `${running.url}/me/recipes`, token),
    });
    await expectDpopError(
      forOtherPath,
      'invalid_dpop_proof',
      'DPoP proof htu does not match the request URL',
    );
    const forOtherHost = await call(url, {
      authorization: `DPoP ${token}`,
      dpop: await proof(key, 'GET', 'https://evil.example/me', token),
    });
    await expectDpopError(
      forOtherHost,
      'invalid_dpop_proof',
      'DPoP proof htu does not match the request URL',
    );
  });

  it('refuses a proof whose ath is the hash of another token', async () => {
    const token = await bound(running);
    const otherToken = await bound(running);
    const url = `${running.url}/me`;
    const response = await call(url, {
      authorization: `DPoP ${token}`,
      dpop: await proof(key, 'GET', url, otherToken),
    });
    await expectDpopError(response, 'invalid_dpop_proof', 'DPoP proof ath does not match the access token');
    const withoutAth = await call(url, {
      authorization: `DPoP ${token}`,
      dpop: await proof(key, 'GET', url, undefined),
    });
    await expectDpopError(withoutAth, 'invalid_dpop_proof');
  });

  it('refuses a request without a proof, with two proofs, or with a stale or future proof', async () => {
    const token = await bound(running);
    const url = `${running.url}/me`;
    await expectDpopError(
      await call(url, { authorization: `DPoP ${token}` }),
      'invalid_dpop_proof',
      'DPoP proof missing',
    );
    const headers = new Headers({ authorization: `DPoP ${token}` });
    headers.append('dpop', await proof(key, 'GET', url, token));
    headers.append('dpop', await proof(key, 'GET', url, token));
    await expectDpopError(await fetch(url, { headers }), 'invalid_dpop_proof', 'more than one DPoP proof');
    for (const iat of [NOW_SECONDS - 61, NOW_SECONDS + 61]) {
      const response = await call(url, {
        authorization: `DPoP ${token}`,
        dpop: await proof(key, 'GET', url, token, { iat }),
      });
      await expectDpopError(response, 'invalid_dpop_proof', 'DPoP proof iat outside the accepted window');
    }
    const garbage = await call(url, { authorization: `DPoP ${token}`, dpop: 'not-a-jwt' });
    await expectDpopError(garbage, 'invalid_dpop_proof', 'malformed DPoP proof');
  });

  it('compares htu without query and fragment, after URL normalisation (RFC 9449 §4.3)', async () => {
    const token = await bound(running);
    const port = new URL(running.url).port;
    const response = await call(`${running.url}/me?page=2`, {
      authorization: `DPoP ${token}`,
      dpop: await proof(key, 'GET', `HTTP://127.0.0.1:${port}/./me#top`, token),
    });
    expect(response.status).toBe(200);
  });

  it('accepts unbound tokens as Bearer and refuses them under the DPoP scheme', async () => {
    const token = await issuer.mint(running.url);
    expect((await call(`${running.url}/me`, { authorization: `Bearer ${token}` })).status).toBe(200);
    const url = `${running.url}/me`;
    const response = await call(url, {
      authorization: `DPoP ${token}`,
      dpop: await proof(key, 'GET', url, token),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(
      /^DPoP realm="[^"]+", error="invalid_token", error_description="token is not DPoP-bound"/,
    );
  });

  it('keeps insufficient_scope (403) for DPoP requests, in the DPoP challenge', async () => {
    const token = await bound(running, key.thumbprint, { scope: 'openid' });
    const url = `${running.url}/me/recipes`;
    const response = await call(url, {
      authorization: `DPoP ${token}`,
      dpop: await proof(key, 'GET', url, token),
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toMatch(
      /^DPoP realm="[^"]+", error="insufficient_scope", error_description="[^"]+", scope="recipes:read"/,
    );
  });

  it('lets browsers send DPoP and read DPoP-Nonce across origins (CORS)', async () => {
    const preflight = await fetch(`${running.url}/me`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization, dpop',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/\bDPoP\b/);
    const response = await call(`${running.url}/me`, {});
    expect(response.headers.get('access-control-expose-headers')).toMatch(/\bDPoP-Nonce\b/);
    expect(response.headers.get('access-control-expose-headers')).toMatch(/\bWWW-Authenticate\b/);
  });
});

describe('DPoP behind a proxy and with nonces', () => {
  it('checks htu against API_URL, not the address the proxy forwards to', async () => {
    const publicUrl = 'https://recipes.example.test';
    const api = await startApi(issuer, { apiUrl: publicUrl });
    try {
      const token = await issuer.mint(publicUrl, { cnf: { jkt: key.thumbprint } });
      const ok = await call(`${api.url}/me`, {
        authorization: `DPoP ${token}`,
        dpop: await proof(key, 'GET', `${publicUrl}/me`, token),
      });
      expect(ok.status).toBe(200);
      const internal = await call(`${api.url}/me`, {
        authorization: `DPoP ${token}`,
        dpop: await proof(key, 'GET', `${api.url}/me`, token),
      });
      await expectDpopError(internal, 'invalid_dpop_proof', 'DPoP proof htu does not match the request URL');
    } finally {
      await api.close();
    }
  });

  it('asks for a nonce (use_dpop_nonce + DPoP-Nonce) and accepts the proof that carries it', async () => {
    const secret = 'a nonce secret of at least 32 bytes!!';
    const api = await startApi(issuer, {
      verifier: { now: () => new Date(NOW_SECONDS * 1000), dpopNonce: { secret } },
    });
    // A second instance with the same secret agrees on nonces: they are stateless.
    const sibling = await startApi(issuer, {
      apiUrl: api.url,
      verifier: { now: () => new Date(NOW_SECONDS * 1000), dpopNonce: { secret } },
    });
    try {
      const token = await issuer.mint(api.url, { cnf: { jkt: key.thumbprint } });
      const url = `${api.url}/me`;
      const first = await call(url, {
        authorization: `DPoP ${token}`,
        dpop: await proof(key, 'GET', url, token),
      });
      await expectDpopError(first, 'use_dpop_nonce', 'DPoP proof requires a nonce');
      const nonce = first.headers.get('dpop-nonce');
      expect(nonce).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      const wrong = await call(url, {
        authorization: `DPoP ${token}`,
        dpop: await proof(key, 'GET', url, token, { nonce: 'made-up-nonce' }),
      });
      await expectDpopError(wrong, 'use_dpop_nonce', 'DPoP nonce expired or invalid');
      const retried = await call(`${sibling.url}/me`, {
        authorization: `DPoP ${token}`,
        dpop: await proof(key, 'GET', url, token, { nonce: String(nonce) }),
      });
      expect(retried.status).toBe(200);
      // Every DPoP answer names the current nonce, so clients switch before theirs expires.
      expect(retried.headers.get('dpop-nonce')).toBe(nonce);
    } finally {
      await sibling.close();
      await api.close();
    }
  });

  it("with dpop: 'required', refuses unbound Bearer tokens and offers only the DPoP scheme", async () => {
    const api = await startApi(issuer, {
      verifier: { now: () => new Date(NOW_SECONDS * 1000), dpop: 'required' },
    });
    try {
      const token = await issuer.mint(api.url);
      const response = await call(`${api.url}/me`, { authorization: `Bearer ${token}` });
      expect(response.status).toBe(401);
      const challenge = response.headers.get('www-authenticate') ?? '';
      expect(challenge).toMatch(/^DPoP realm="[^"]+", error="invalid_dpop_proof"/);
      expect(challenge).not.toContain('Bearer');
      const anonymous = await call(`${api.url}/me`, {});
      expect(anonymous.headers.get('www-authenticate')).toBe(`DPoP realm="${api.url}", algs="ES256 EdDSA"`);
    } finally {
      await api.close();
    }
  });
});

describe('a proof replayed in a burst is accepted exactly once', () => {
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

  const burst = async (apis: RunningApi[]) => {
    const [first] = apis;
    if (!first) throw new Error('no API');
    const token = await bound(first);
    const url = `${first.url}/me`;
    const headers = { authorization: `DPoP ${token}`, dpop: await proof(key, 'GET', url, token) };
    // Spread over the instances: the publicOrigin is the first one's, so every instance checks the same htu.
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => call(`${apis[i % apis.length]?.url}/me`, headers)),
    );
    return responses.map((response) => response.status).sort();
  };

  it('in memory (one instance)', async () => {
    const statuses = await burst([running]);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 401)).toHaveLength(49);
  });

  it('in Redis, across two instances of the API', async () => {
    const a = await startApi(issuer, { redis: conn });
    const b = await startApi(issuer, { redis: conn, apiUrl: a.url });
    try {
      const statuses = await burst([a, b]);
      expect(statuses.filter((status) => status === 200)).toHaveLength(1);
      expect(statuses.filter((status) => status === 401)).toHaveLength(49);
      expect(await conn.keys('gatehouse:resource:dpop-jti:*')).toHaveLength(1);
    } finally {
      await b.close();
      await a.close();
    }
  });
});
