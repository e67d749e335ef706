// `dpop: true` against the real Gatehouse server (DPoP nonces required, DPOP_REQUIRE_NONCE=1) on a real Redis
// and the real demo API, which checks proofs and asks for nonces of its own: the SDK binds its tokens to one
// key, recovers from each `use_dpop_nonce` with exactly one retry, refreshes once for 1,000 concurrent calls,
// and a copied refresh token is worthless to anyone without the key.

import { once } from 'node:events';
import type { Server } from 'node:http';
import { type GatehouseClient, memoryStorage } from '@gatehouse/client';
import { createDemoApi, type DemoApi } from '@gatehouse/demo-api';
import { freePort } from '@gatehouse/testkit';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import type { KoaContextWithOIDC } from 'oidc-provider';
import * as oauth from 'openid-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AUDIENCE, MovableClock, signInWithSdk } from './support/gatehouse-behind-proxy.ts';

/** One POST /token as the server answered it. */
interface TokenRequest {
  grantType: string;
  error?: string;
  proof: boolean;
}

let api: DemoApi;
let apiServer: Server;
let apiConnection: Redis;
let apiBase: string;
const tokenRequests: TokenRequest[] = [];
/** Statuses the demo API answered, in order. */
const apiStatuses: number[] = [];
const opened: GatehouseClient[] = [];

const gh = suiteGatehouse({
  env: { DPOP_REQUIRE_NONCE: '1' },
  gatehouse: {
    onProviderCreated: (provider) =>
      provider.use(async function countTokenRequests(ctx, next) {
        await next();
        if (ctx.method !== 'POST' || ctx.path !== '/token') return;
        const params = (ctx as unknown as KoaContextWithOIDC).oidc?.params;
        const error = (ctx.body as { error?: string } | undefined)?.error;
        tokenRequests.push({
          grantType: String(params?.grant_type ?? ''),
          ...(error ? { error } : {}),
          proof: !!ctx.get('dpop'),
        });
      }),
  },
});
beforeAll(async () => {
  const port = await freePort();
  apiBase = `http://127.0.0.1:${port}`;
  apiConnection = new Redis(gh.redis.url);
  api = createDemoApi({
    issuer: gh.issuer,
    apiUrl: AUDIENCE,
    redis: apiConnection,
    // Clients reach the API at apiBase; its own nonces (RFC 9449 §9) on top of the server's.
    verifier: {
      dpopPublicOrigin: apiBase,
      dpopNonce: { secret: 'demo-api-dpop-nonce-secret-0123456789abcdef' },
    },
  });
  // First in the chain (the routes answer without calling further middleware), composed at listen().
  api.middleware.unshift(async function countStatuses(ctx, next) {
    await next();
    apiStatuses.push(ctx.status);
  });
  apiServer = api.listen(port, '127.0.0.1');
  await once(apiServer, 'listening');
}, 60_000);
afterEach(() => {
  for (const auth of opened.splice(0)) auth.close();
});
afterAll(async () => {
  api?.close();
  apiServer?.close();
  apiConnection?.disconnect();
});

async function signedIn(clock = new MovableClock()): Promise<GatehouseClient> {
  const auth = await signInWithSdk(
    { issuer: gh.issuer, gatehouse: gh },
    { clock, storage: memoryStorage(), dpop: true, user: 'dpop-sdk-user' },
  );
  opened.push(auth);
  return auth;
}

const since = (count: number) => tokenRequests.slice(count);

describe('@gatehouse/client with dpop: true against Gatehouse', { timeout: 60_000 }, () => {
  it('signs in with one retry for the server nonce; the tokens are DPoP-bound and the API accepts them', async () => {
    const before = tokenRequests.length;
    const auth = await signedIn();
    // The code exchange: refused once for want of a nonce, then accepted; both with a proof.
    expect(since(before)).toEqual([
      { grantType: 'authorization_code', error: 'use_dpop_nonce', proof: true },
      { grantType: 'authorization_code', proof: true },
    ]);
    const { accessToken } = (await auth.getTokens())!;
    expect(decodeJwt(accessToken).cnf).toEqual({ jkt: expect.stringMatching(/^[\w-]{43}$/) });

    // The demo API wants its own nonce: one 401 use_dpop_nonce, one retry, then the nonce is kept.
    apiStatuses.length = 0;
    const me = await auth.http.get(`${apiBase}/me`).json<{ client_id: string }>();
    expect(me.client_id).toBe('spa');
    await auth.http.get(`${apiBase}/me`);
    expect(apiStatuses).toEqual([401, 200, 200]);
  });

  it('1,000 concurrent auth.http calls with an expired bound token cause exactly one refresh; all succeed', async () => {
    const clock = new MovableClock();
    const auth = await signedIn(clock);
    await auth.http.get(`${apiBase}/me`); // the API's nonce, learnt once
    const before = tokenRequests.length;
    clock.advance(3600);
    const results = await Promise.all(Array.from({ length: 1000 }, () => auth.http.get(`${apiBase}/me`)));
    expect(results.every((response) => response.status === 200)).toBe(true);
    // The server nonce learnt at sign-in still holds: one request, no retry.
    expect(since(before)).toEqual([{ grantType: 'refresh_token', proof: true }]);
  });

  it('a copied refresh token is refused without a proof and with another key (openid-client); the client keeps working', async () => {
    const clock = new MovableClock();
    const auth = await signedIn(clock);
    const { refreshToken } = (await auth.getTokens())!;

    // Without a proof: the server refuses the bound refresh token.
    const bare = await fetch(`${gh.issuer}/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken!,
        client_id: 'spa',
      }),
    });
    expect(bare.status).toBe(400);
    expect(await bare.json()).toMatchObject({ error: 'invalid_grant' });

    // With a proof of another key, nonce handling and all, by a real OAuth client library.
    const config = await oauth.discovery(new URL(gh.issuer), 'spa', undefined, oauth.None(), {
      execute: [oauth.allowInsecureRequests],
    });
    const thief = oauth.getDPoPHandle(config, await oauth.randomDPoPKeyPair('ES256'));
    await expect(
      oauth.refreshTokenGrant(config, refreshToken!, undefined, { DPoP: thief }),
    ).rejects.toMatchObject({
      error: 'invalid_grant',
    });

    // Neither attempt spent the token: the SDK renews with its key, and the API takes the new token.
    const before = tokenRequests.length;
    clock.advance(3600);
    expect((await auth.http.get(`${apiBase}/me`)).status).toBe(200);
    expect(since(before)).toEqual([{ grantType: 'refresh_token', proof: true }]);
  });

  it('sign-out revokes the bound refresh token at the server', async () => {
    const auth = await signedIn();
    const { refreshToken } = (await auth.getTokens())!;
    expect(await auth.signOut({ endSession: false })).toMatchObject({ revoked: true });
    const introspected = await fetch(`${gh.issuer}/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken!,
        client_id: 'spa',
      }),
    });
    expect(await introspected.json()).toMatchObject({ error: 'invalid_grant' });
  });
});
