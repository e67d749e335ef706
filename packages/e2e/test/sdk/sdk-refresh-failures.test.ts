import { once } from 'node:events';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type GatehouseClient, memoryStorage, NetworkError, SessionExpiredError } from '@gatehouse/client';
import { createDemoApi, type DemoApi } from '@gatehouse/demo-api';
import { Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIENCE,
  type GatehouseBehindProxy,
  keyRecordingStorage,
  MovableClock,
  recordEvents,
  signInWithSdk,
  startGatehouseBehindProxy,
} from './support/gatehouse-behind-proxy.ts';

/** An API whose resource identifier the SDK's tokens do not carry as `aud`: it refuses every one of them. */
const FOREIGN_AUDIENCE = 'http://localhost:4002';

interface RunningApi {
  readonly api: DemoApi;
  readonly server: Server;
  readonly base: string;
  /** The `Authorization` header of every request the API received. */
  readonly requests: (string | undefined)[];
}

async function listen(api: DemoApi): Promise<RunningApi> {
  const requests: (string | undefined)[] = [];
  const server = api.listen(0, '127.0.0.1');
  server.on('request', (request: IncomingMessage) => requests.push(request.headers.authorization));
  await once(server, 'listening');
  return { api, server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

/** Whether any value the SDK left in storage contains `token`. */
async function stillStored(values: () => Promise<string[]>, token: string): Promise<boolean> {
  return (await values()).some((value) => value.includes(token));
}

// Refresh failures of @gatehouse/client against the real Gatehouse server on a private redis-server. The
// server sits behind a TCP proxy on the issuer's port so that a test can make it unreachable for real.
describe('@gatehouse/client refresh failures against Gatehouse', () => {
  let gh: GatehouseBehindProxy;
  let apiConnection: Redis;
  let api: RunningApi;
  let foreignApi: RunningApi;
  const opened: GatehouseClient[] = [];

  beforeAll(async () => {
    gh = await startGatehouseBehindProxy();
    apiConnection = new Redis(gh.redis.url);
    api = await listen(
      createDemoApi({ issuer: gh.issuer, apiUrl: AUDIENCE, redis: apiConnection, web: false }),
    );
    foreignApi = await listen(createDemoApi({ issuer: gh.issuer, apiUrl: FOREIGN_AUDIENCE, web: false }));
  });
  afterEach(async () => {
    for (const auth of opened.splice(0)) auth.close();
    // A test that failed while the server was unreachable must not take the next one down with it.
    await gh?.proxy.accept();
  });
  afterAll(async () => {
    for (const running of [api, foreignApi]) {
      running?.api.close();
      running?.server.close();
    }
    apiConnection?.disconnect();
    await gh?.stop();
  });

  async function signIn(options: Parameters<typeof signInWithSdk>[1] = {}): Promise<GatehouseClient> {
    const auth = await signInWithSdk(gh, options);
    opened.push(auth);
    return auth;
  }

  it('a 401 from the API after a refresh does not loop', async () => {
    const auth = await signIn();
    const grantsBefore = gh.refreshGrants.length;
    foreignApi.requests.length = 0;

    // The API's verifier (@gatehouse/resource) answers 401 invalid_token to every token of this client,
    // including the one a refresh just produced.
    const error = await auth.http.get(`${foreignApi.base}/me`).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('HTTPError');
    const { response } = error as { response: Response };
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    expect(gh.refreshGrants.slice(grantsBefore)).toEqual([{ ok: true }]);
    expect(foreignApi.requests).toHaveLength(2);
    // The retry carried the refreshed token, not the one that was refused.
    expect(foreignApi.requests[1]).toMatch(/^Bearer \S+$/);
    expect(foreignApi.requests[1]).not.toBe(foreignApi.requests[0]);
  });

  it('server answering invalid_grant → sessionExpired once, storage cleared', async () => {
    const memory = memoryStorage();
    const { storage, values } = keyRecordingStorage(memory);
    const clock = new MovableClock();
    const auth = await signIn({ storage, clock });
    const tokens = await auth.getTokens();
    if (!tokens?.refreshToken) throw new Error('the sign-in returned no refresh token');
    expect(await stillStored(values, tokens.refreshToken)).toBe(true);
    const expired = recordEvents(auth, 'sessionExpired');
    const changes = recordEvents(auth, 'tokensChanged');

    // An administrator ends the session at the server: the grant and its refresh token are revoked in Redis.
    const { gid } = decodeJwt(tokens.accessToken);
    expect(typeof gid).toBe('string');
    await gh.gatehouse.server.revokeGrant(gid as string);
    // ...and the SDK's access token has expired, so the next use needs a refresh.
    clock.advance(3600);
    const grantsBefore = gh.refreshGrants.length;

    const results = await Promise.allSettled([
      auth.getAccessToken(),
      ...Array.from({ length: 5 }, () => auth.http.get(`${api.base}/me`)),
    ]);

    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(SessionExpiredError);
    }
    expect(gh.refreshGrants.slice(grantsBefore)).toEqual([{ ok: false, error: 'invalid_grant' }]);
    expect(expired).toHaveLength(1);
    expect(expired[0]).toBeInstanceOf(SessionExpiredError);
    expect(changes).toContain(undefined);
    expect(changes.at(-1)).toBeUndefined();
    expect(await auth.getTokens()).toBeUndefined();
    for (const token of [tokens.accessToken, tokens.refreshToken, tokens.idToken]) {
      if (token) expect(await stillStored(values, token)).toBe(false);
    }
  });

  it('network failure during refresh → typed error, session kept, next call recovers', async () => {
    const memory = memoryStorage();
    const { storage, values } = keyRecordingStorage(memory);
    const clock = new MovableClock();
    const auth = await signIn({ storage, clock });
    const before = await auth.getTokens();
    if (!before?.refreshToken) throw new Error('the sign-in returned no refresh token');
    const failed = recordEvents(auth, 'refreshFailed');
    const expired = recordEvents(auth, 'sessionExpired');
    clock.advance(3600);
    const grantsBefore = gh.refreshGrants.length;

    // The authorization server becomes unreachable: connections to the issuer's port are refused.
    await gh.proxy.refuse();
    const error = await auth.getAccessToken().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).code).toBe('ERR_NETWORK');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toBeInstanceOf(NetworkError);
    expect(expired).toHaveLength(0);
    expect(gh.refreshGrants.length).toBe(grantsBefore);
    expect((await auth.getTokens())?.refreshToken).toBe(before.refreshToken);
    expect(await stillStored(values, before.refreshToken)).toBe(true);

    // The server is back on the same address; the kept refresh token renews the session.
    await gh.proxy.accept();
    const token = await auth.getAccessToken();

    expect(token).not.toBe(before.accessToken);
    expect(gh.refreshGrants.slice(grantsBefore)).toEqual([{ ok: true }]);
    expect(expired).toHaveLength(0);
    const me = await auth.http.get(`${api.base}/me`).json<{ client_id: string }>();
    expect(me.client_id).toBe('spa');
    expect(gh.refreshGrants.slice(grantsBefore)).toEqual([{ ok: true }]);
  });
});
