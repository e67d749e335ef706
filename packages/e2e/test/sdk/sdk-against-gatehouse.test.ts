import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Clock, InteractionRequiredError, memoryStorage } from '@gatehouse/client';
import { createGatehouseClient as createNodeClient } from '@gatehouse/client/node';
import { createDemoApi, type DemoApi } from '@gatehouse/demo-api';
import { SERVICE_SECRET } from '@gatehouse/testkit/clients';
import { postForm } from '@gatehouse/testkit/forms';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInWithSdk } from './support/gatehouse-behind-proxy.ts';

const AUDIENCE = 'http://localhost:4001';

// The SDK against the real Gatehouse server and the real demo API (its own tests use a bare
// oidc-provider configured the same way; this proves the pair works together).
describe('@gatehouse/client against Gatehouse', () => {
  let api: DemoApi;
  let apiServer: Server;
  let apiConnection: Redis;
  let apiBase: string;
  let refreshGrants = 0;

  const gh = suiteGatehouse({
    gatehouse: {
      onProviderCreated: (provider) =>
        provider.on('grant.success', (ctx) => {
          if (ctx.oidc.params?.grant_type === 'refresh_token') refreshGrants++;
        }),
    },
  });
  beforeAll(async () => {
    apiConnection = new Redis(gh.redis.url);
    api = createDemoApi({ issuer: gh.issuer, apiUrl: AUDIENCE, redis: apiConnection });
    apiServer = api.listen(0, '127.0.0.1');
    await once(apiServer, 'listening');
    apiBase = `http://127.0.0.1:${(apiServer.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    api?.close();
    apiServer?.close();
    apiConnection?.disconnect();
  });

  const signedInClient = (clock: Clock) =>
    signInWithSdk(
      { issuer: gh.issuer, gatehouse: gh },
      { clock, storage: memoryStorage(), user: 'sdk-user' },
    );

  it('signs in with the code flow and calls the API', async () => {
    const auth = await signedInClient({ now: () => Date.now(), sleep: async () => {} });
    const me = await auth.http.get(`${apiBase}/me`).json<{ client_id: string }>();
    expect(me.client_id).toBe('spa');
    auth.close();
  });

  it('1,000 concurrent API calls with an expired access token cause exactly one refresh at the server', async () => {
    let offset = 0;
    const auth = await signedInClient({ now: () => Date.now() + offset, sleep: async () => {} });
    const before = refreshGrants;
    // The SDK now believes its access token has expired; the server rotates the refresh token.
    offset = 3600_000;
    const results = await Promise.all(Array.from({ length: 1000 }, () => auth.http.get(`${apiBase}/me`)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(refreshGrants - before).toBe(1);
    auth.close();
  });

  it('sign-out revokes at the server: the old refresh token is dead and the API refuses the old access token', async () => {
    const auth = await signedInClient({ now: () => Date.now(), sleep: async () => {} });
    const tokens = await auth.getTokens();
    const { revoked } = await auth.signOut({ endSession: false });
    expect(revoked).toBe(true);
    const replay = await postForm(`${gh.issuer}/token`, {
      grant_type: 'refresh_token',
      refresh_token: String(tokens?.refreshToken),
      client_id: 'spa',
    });
    expect(replay.body.error).toBe('invalid_grant');
    let status = 200;
    for (let i = 0; i < 200 && status === 200; i++) {
      status = (await fetch(`${apiBase}/me`, { headers: { authorization: `Bearer ${tokens?.accessToken}` } }))
        .status;
      if (status === 200) await new Promise((r) => setTimeout(r, 10));
    }
    expect(status).toBe(401);
    // Signed out: the SDK asks for a new sign-in rather than pretending a session exists.
    await expect(auth.getAccessToken()).rejects.toBeInstanceOf(InteractionRequiredError);
  });

  it('a Node service signs in with client credentials and calls the API', async () => {
    const service = createNodeClient({
      issuer: gh.issuer,
      clientId: 'service',
      clientSecret: SERVICE_SECRET,
      scope: 'recipes:read',
      resource: AUDIENCE,
    });
    await service.signInWithClientCredentials();
    const me = await service.http.get(`${apiBase}/me`).json<{ client_id: string }>();
    expect(me.client_id).toBe('service');
    service.close();
  });
});
