import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { REDIRECT_URI } from '@gatehouse/testkit/clients';
import { dpopKey, dpopProof } from '@gatehouse/testkit/dpop';
import { postForm } from '@gatehouse/testkit/forms';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENTS_WITH_DPOP, codeFor, codeForm, refreshForm } from './dpop-support.ts';

/** Where instance `gh` listens (its issuer may be another instance's: one deployment, one ISSUER). */
const baseOf = (gh: StartedGatehouse) => `http://localhost:${gh.server.config.port}`;
const SPA_ORIGIN = new URL(REDIRECT_URI).origin;

// RFC 9449 §8 server nonces with DPOP_REQUIRE_NONCE=1, on two instances behind one ISSUER that
// share GATEHOUSE_SECRET and Redis: a nonce is computed from the secret and the time, never
// stored, so whichever instance a client's retry lands on accepts it.
describe('DPoP nonces required, two instances on one Redis', () => {
  let redis: RedisProcess;
  let a: StartedGatehouse;
  let b: StartedGatehouse;
  let other: StartedGatehouse;
  beforeAll(async () => {
    redis = await startRedis();
    const gatehouse = { clients: CLIENTS_WITH_DPOP };
    a = await startGatehouse({ redis, env: { DPOP_REQUIRE_NONCE: '1' }, gatehouse });
    b = await startGatehouse({ redis, env: { DPOP_REQUIRE_NONCE: '1', ISSUER: a.issuer }, gatehouse });
    // Another deployment: its own secret, its own nonces.
    other = await startGatehouse({
      env: { DPOP_REQUIRE_NONCE: '1', GATEHOUSE_SECRET: 'another-deployment-secret-0123456789ab' },
      gatehouse,
    });
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), other?.stop()]);
    await redis?.cleanup();
  });

  it('a proof without a nonce gets 400 use_dpop_nonce with a DPoP-Nonce; the retry with it succeeds at the other instance', async () => {
    const key = await dpopKey();
    const { code, verifier } = await codeFor(a, { clientId: 'dpop-spa' });
    const form = codeForm(code, verifier, 'dpop-spa');
    const htu = `${a.issuer}/token`;
    const first = await postForm(`${baseOf(a)}/token`, form, {
      dpop: await dpopProof(key, { htm: 'POST', htu }),
    });
    expect(first.status).toBe(400);
    expect(first.body.error).toBe('use_dpop_nonce');
    const nonce = first.headers.get('dpop-nonce');
    expect(nonce).toMatch(/^[\w-]{20,}$/);

    // The one retry a client makes, sent to instance B.
    const retry = await postForm(`${baseOf(b)}/token`, form, {
      dpop: await dpopProof(key, { htm: 'POST', htu, nonce: String(nonce) }),
    });
    expect(retry.status).toBe(200);
    expect(retry.body.token_type).toBe('DPoP');

    // The nonce keeps working at A for the refresh; the code was not spent by the refusal above.
    const refreshed = await postForm(
      `${baseOf(a)}/token`,
      refreshForm(String(retry.body.refresh_token), 'dpop-spa'),
      {
        dpop: await dpopProof(key, { htm: 'POST', htu, nonce: String(nonce) }),
      },
    );
    expect(refreshed.status).toBe(200);

    // Another deployment's server does not take it.
    const elsewhere = await postForm(`${baseOf(other)}/token`, refreshForm('unknown', 'dpop-spa'), {
      dpop: await dpopProof(key, { htm: 'POST', htu: `${other.issuer}/token`, nonce: String(nonce) }),
    });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.error).toBe('use_dpop_nonce');
    expect(elsewhere.headers.get('dpop-nonce')).not.toBe(nonce);
  });

  it('userinfo: 401 with WWW-Authenticate error="use_dpop_nonce" and a DPoP-Nonce, then 200 at the other instance', async () => {
    const key = await dpopKey();
    const { code, verifier } = await codeFor(a, { clientId: 'dpop-spa', scope: 'openid' });
    const htu = `${a.issuer}/token`;
    const form = codeForm(code, verifier, 'dpop-spa');
    const challenge = await postForm(`${baseOf(a)}/token`, form, {
      dpop: await dpopProof(key, { htm: 'POST', htu }),
    });
    const tokenNonce = String(challenge.headers.get('dpop-nonce'));
    const issued = await postForm(`${baseOf(a)}/token`, form, {
      dpop: await dpopProof(key, { htm: 'POST', htu, nonce: tokenNonce }),
    });
    const accessToken = String(issued.body.access_token);

    const userinfo = `${a.issuer}/userinfo`;
    const first = await fetch(`${baseOf(a)}/userinfo`, {
      headers: {
        authorization: `DPoP ${accessToken}`,
        dpop: await dpopProof(key, { htm: 'GET', htu: userinfo, accessToken }),
      },
    });
    expect(first.status).toBe(401);
    expect(first.headers.get('www-authenticate')).toMatch(/^DPoP .*error="use_dpop_nonce"/);
    const nonce = first.headers.get('dpop-nonce');
    expect(nonce).toBeTruthy();

    const retry = await fetch(`${baseOf(b)}/userinfo`, {
      headers: {
        authorization: `DPoP ${accessToken}`,
        dpop: await dpopProof(key, { htm: 'GET', htu: userinfo, accessToken, nonce: String(nonce) }),
      },
    });
    expect(retry.status).toBe(200);
  });

  it('browsers may send DPoP and read DPoP-Nonce: preflights allow the header at /token, /revoke and /userinfo, and the nonce is exposed', async () => {
    for (const [path, headers] of [
      ['/token', 'content-type, dpop'],
      ['/revoke', 'content-type, dpop'],
      ['/userinfo', 'authorization, dpop'],
    ] as const) {
      const preflight = await fetch(`${baseOf(a)}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin: SPA_ORIGIN,
          'access-control-request-method': path === '/userinfo' ? 'GET' : 'POST',
          'access-control-request-headers': headers,
        },
      });
      expect(preflight.status, path).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin'), path).toBe(SPA_ORIGIN);
      expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase(), path).toContain('dpop');
    }

    // The actual request from the page: the nonce challenge is readable, not a network error.
    const key = await dpopKey();
    const challenged = await fetch(`${baseOf(a)}/token`, {
      method: 'POST',
      headers: {
        origin: SPA_ORIGIN,
        'content-type': 'application/x-www-form-urlencoded',
        dpop: await dpopProof(key, { htm: 'POST', htu: `${a.issuer}/token` }),
      },
      body: new URLSearchParams(refreshForm('unknown', 'dpop-spa')),
    });
    expect(challenged.status).toBe(400);
    expect(challenged.headers.get('access-control-allow-origin')).toBe(SPA_ORIGIN);
    expect(challenged.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('dpop-nonce');
    expect(challenged.headers.get('dpop-nonce')).toBeTruthy();
  });

  it('discovery advertises the proof algorithms (RFC 9449 §5.1)', async () => {
    const metadata = (await (await fetch(`${baseOf(b)}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(metadata.dpop_signing_alg_values_supported).toEqual(['ES256', 'Ed25519', 'EdDSA']);
  });
});
