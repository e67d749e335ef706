import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDemoApi, type DemoApi } from '@gatehouse/demo-api';
import { API, basic, SERVICE_SECRET } from '@gatehouse/testkit/clients';
import { type DpopKey, dpopKey, dpopProof } from '@gatehouse/testkit/dpop';
import { postForm } from '@gatehouse/testkit/forms';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// RFC 9449 end to end: the real server binds a client-credentials token to the client's key (cnf.jkt,
// token_type DPoP), and the demo API, on the server's Redis, accepts it only with a proof of that key.
describe('a DPoP-bound token from the real server at the demo API', () => {
  let api: DemoApi;
  let apiServer: Server;
  let apiConnection: Redis;
  let apiBase: string;
  let key: DpopKey;
  let token: string;

  const gh = suiteGatehouse();
  beforeAll(async () => {
    apiConnection = new Redis(gh.redis.url);
    api = createDemoApi({ issuer: gh.issuer, apiUrl: API, redis: apiConnection, web: false });
    apiServer = api.listen(0, '127.0.0.1');
    await once(apiServer, 'listening');
    apiBase = `http://127.0.0.1:${(apiServer.address() as AddressInfo).port}`;
    key = await dpopKey();
    const form = { grant_type: 'client_credentials', scope: 'recipes:read', resource: API };
    let response = await postForm(`${gh.issuer}/token`, form, {
      ...basic('service', SERVICE_SECRET),
      dpop: await dpopProof(key, { htm: 'POST', htu: `${gh.issuer}/token` }),
    });
    // A server that requires nonces (DPOP_REQUIRE_NONCE=1) asks once for one (RFC 9449 §8).
    const nonce = response.headers.get('dpop-nonce');
    if (response.status === 400 && response.body.error === 'use_dpop_nonce' && nonce) {
      response = await postForm(`${gh.issuer}/token`, form, {
        ...basic('service', SERVICE_SECRET),
        dpop: await dpopProof(key, { htm: 'POST', htu: `${gh.issuer}/token`, nonce }),
      });
    }
    expect(response.status).toBe(200);
    expect(response.body.token_type).toBe('DPoP');
    token = String(response.body.access_token);
  });
  afterAll(async () => {
    api?.close();
    apiServer?.close();
    apiConnection?.disconnect();
  });

  const me = (headers: Record<string, string>, method = 'GET') => fetch(`${apiBase}/me`, { method, headers });

  it('is bound to the client key (cnf.jkt) and accepted with a proof of it', async () => {
    expect(decodeJwt(token).cnf).toEqual({ jkt: key.thumbprint });
    const response = await me({
      authorization: `DPoP ${token}`,
      dpop: await dpopProof(key, { htm: 'GET', htu: `${API}/me`, accessToken: token }),
    });
    expect(response.status).toBe(200);
    expect((await response.json()).client_id).toBe('service');
  });

  it('is refused as Bearer, with another key, replayed, for another request or another token', async () => {
    const refused = async (response: Response) => {
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(
        /^DPoP realm="[^"]+", error="invalid_dpop_proof"/,
      );
    };
    await refused(await me({ authorization: `Bearer ${token}` }));
    const stranger = await dpopKey();
    await refused(
      await me({
        authorization: `DPoP ${token}`,
        dpop: await dpopProof(stranger, { htm: 'GET', htu: `${API}/me`, accessToken: token }),
      }),
    );
    const once = {
      authorization: `DPoP ${token}`,
      dpop: await dpopProof(key, { htm: 'GET', htu: `${API}/me`, accessToken: token }),
    };
    expect((await me(once)).status).toBe(200);
    await refused(await me(once));
    await refused(
      await me({
        authorization: `DPoP ${token}`,
        dpop: await dpopProof(key, { htm: 'POST', htu: `${API}/me`, accessToken: token }),
      }),
    );
    await refused(
      await me({
        authorization: `DPoP ${token}`,
        dpop: await dpopProof(key, { htm: 'GET', htu: `${API}/me/recipes`, accessToken: token }),
      }),
    );
    await refused(
      await me({
        authorization: `DPoP ${token}`,
        dpop: await dpopProof(key, { htm: 'GET', htu: `${API}/me`, accessToken: `${token}x` }),
      }),
    );
  });
});
