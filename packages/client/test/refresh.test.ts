import { HTTPError } from 'ky';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type GatehouseClient,
  type GatehouseEvents,
  inProcessLock,
  memoryStorage,
  NetworkError,
  SessionExpiredError,
  type TokenStorage,
} from '../src/node/index.ts';
import { type AuthServer, startAuthServer } from './support/auth-server.ts';
import { signedInSpaClient } from './support/clients.ts';
import { type ProtectedApi, startProtectedApi } from './support/protected-api.ts';
import { TestClock } from './support/test-clock.ts';

let server: AuthServer;
let api: ProtectedApi;
let clock: TestClock;
const opened: GatehouseClient[] = [];

beforeAll(async () => {
  server = await startAuthServer({ accessTokenTTL: 60 });
  api = await startProtectedApi({ issuer: server.issuer, audience: server.apiResource });
});
afterAll(async () => {
  await api.close();
  await server.close();
});
beforeEach(() => {
  clock = new TestClock();
  api.rejectAll = false;
  api.requests.length = 0;
});
afterEach(() => {
  for (const auth of opened.splice(0)) auth.close();
});

async function signIn(options: Parameters<typeof signedInSpaClient>[1] = {}): Promise<GatehouseClient> {
  const auth = await signedInSpaClient(server, { clock, ...options });
  opened.push(auth);
  return auth;
}

/** Refreshes with a refresh token directly at the token endpoint, as another party would. */
async function refreshDirectly(refreshToken: string): Promise<Response> {
  return fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: 'test-spa',
    }),
  });
}

function record<E extends keyof GatehouseEvents>(auth: GatehouseClient, event: E): GatehouseEvents[E][] {
  const seen: GatehouseEvents[E][] = [];
  auth.on(event, (payload) => seen.push(payload));
  return seen;
}

describe('single-flight refresh', () => {
  it('1,000 concurrent getAccessToken() and auth.http calls with an expired token cause one refresh', async () => {
    const auth = await signIn();
    const before = (await auth.getTokens())!;
    const refreshesBefore = server.tokenRequests('refresh_token');
    clock.advance(120); // the access token is now expired for the client

    const tokens = await Promise.all(Array.from({ length: 500 }, () => auth.getAccessToken()));
    expect(server.tokenRequests('refresh_token') - refreshesBefore).toBe(1);
    clock.advance(120);
    const responses = await Promise.all(
      Array.from({ length: 500 }, () => auth.http.get(`${api.url}/me`).json<{ sub: string }>()),
    );

    expect(server.tokenRequests('refresh_token') - refreshesBefore).toBe(2);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(before.accessToken);
    expect(responses.every((me) => me.sub === server.userId)).toBe(true);
    expect(server.tokenErrors()).not.toContain('invalid_grant');
  });

  it('1,000 concurrent auth.http calls with an expired token cause exactly one refresh request', async () => {
    const auth = await signIn();
    const refreshesBefore = server.tokenRequests('refresh_token');
    clock.advance(120);
    const responses = await Promise.all(
      Array.from({ length: 1000 }, () => auth.http.get(`${api.url}/me`).json<{ sub: string }>()),
    );
    expect(server.tokenRequests('refresh_token') - refreshesBefore).toBe(1);
    expect(responses).toHaveLength(1000);
    expect(responses.every((me) => me.sub === server.userId)).toBe(true);
  });

  it('two clients sharing one storage and one lock refresh once between them and end with the same token', async () => {
    const storage = memoryStorage();
    const lock = inProcessLock();
    const first = await signIn({ storage, lock });
    const second = await signIn({ storage, lock, redirectUri: server.clients.spa.redirectUri });
    // `second` signed in last; make both hold its session, then let it expire for both.
    const shared = (await second.getTokens())!;
    expect((await first.getTokens())?.accessToken).not.toBe(shared.accessToken);
    const refreshesBefore = server.tokenRequests('refresh_token');
    clock.advance(120);

    const [a, b] = await Promise.all([second.getAccessToken(), first.getAccessToken()]);
    expect(server.tokenRequests('refresh_token') - refreshesBefore).toBe(1);
    expect(a).toBe(b);
    expect(server.tokenErrors()).not.toContain('invalid_grant');
  });
});

describe('auth.http on 401 invalid_token', () => {
  it('refreshes once and retries once', async () => {
    const auth = await signIn();
    const rejected = await auth.getAccessToken();
    api.revokedTokens.add(rejected);
    const refreshesBefore = server.tokenRequests('refresh_token');

    const me = await auth.http.get(`${api.url}/me`).json<{ sub: string }>();

    expect(me.sub).toBe(server.userId);
    expect(server.tokenRequests('refresh_token') - refreshesBefore).toBe(1);
    expect(api.requests.map((request) => request.status)).toEqual([401, 200]);
    expect(api.requests[1]?.token).not.toBe(rejected);
  });

  it('surfaces a second 401 as HTTPError instead of looping', async () => {
    const auth = await signIn();
    api.rejectAll = true;
    const refreshesBefore = server.tokenRequests('refresh_token');

    const error = await auth.http.get(`${api.url}/me`).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(HTTPError);
    expect((error as HTTPError).response.status).toBe(401);
    expect(server.tokenRequests('refresh_token') - refreshesBefore).toBe(1);
    expect(api.requests).toHaveLength(2);
  });

  it('does not refresh for a token that is no longer current; it retries with the current one', async () => {
    const auth = await signIn();
    const old = await auth.getAccessToken();
    api.revokedTokens.add(old);
    const held = api.holdNextRequest();
    const pending = auth.http.get(`${api.url}/me`).json<{ sub: string }>();
    await held.arrived;
    // While the request with the old token is in flight, the client moves on to a new token.
    clock.advance(120);
    const current = await auth.getAccessToken();
    const refreshesBefore = server.tokenRequests('refresh_token');
    held.release();

    expect((await pending).sub).toBe(server.userId);
    expect(server.tokenRequests('refresh_token') - refreshesBefore).toBe(0);
    expect(api.requests.map((request) => [request.token, request.status])).toEqual([
      [old, 401],
      [current, 200],
    ]);
  });
});

describe('refresh failures', () => {
  it('invalid_grant ends the session: SessionExpiredError, one sessionExpired event, storage cleared', async () => {
    const storage = memoryStorage();
    const auth = await signIn({ storage });
    const expired = record(auth, 'sessionExpired');
    const { refreshToken } = (await auth.getTokens())!;
    // Another party redeems the refresh token first: the client's copy is now a replay.
    expect((await refreshDirectly(refreshToken!)).status).toBe(200);
    clock.advance(120);

    const results = await Promise.allSettled(Array.from({ length: 20 }, () => auth.getAccessToken()));

    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(SessionExpiredError);
    }
    expect(server.tokenErrors().filter((error) => error === 'invalid_grant')).toHaveLength(1);
    expect(expired).toHaveLength(1);
    expect(await auth.getTokens()).toBeUndefined();
    expect(await storedKeys(storage)).toEqual([]);
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'ERR_INTERACTION_REQUIRED' });
  });

  it('a network failure during refresh throws NetworkError, keeps the refresh token, and does not retry', async () => {
    const auth = await signIn();
    const failed = record(auth, 'refreshFailed');
    const before = (await auth.getTokens())!;
    const refreshesBefore = server.tokenRequests('refresh_token');
    clock.advance(120);
    server.dropNextTokenRequests(1);

    await expect(auth.getAccessToken()).rejects.toBeInstanceOf(NetworkError);

    expect(server.tokenRequests('refresh_token') - refreshesBefore).toBe(0);
    expect(failed).toHaveLength(1);
    expect((await auth.getTokens())?.refreshToken).toBe(before.refreshToken);
    // The next call recovers with the kept refresh token.
    const token = await auth.getAccessToken();
    expect(token).not.toBe(before.accessToken);
    expect(server.tokenRequests('refresh_token') - refreshesBefore).toBe(1);
  });
});

describe('signOut', () => {
  it('revokes the refresh token at the server and clears storage', async () => {
    const storage = memoryStorage();
    const auth = await signIn({ storage });
    const signedOut = record(auth, 'signedOut');
    const { refreshToken } = (await auth.getTokens())!;

    const result = await auth.signOut();

    expect(result).toEqual({ revoked: true, revocationError: undefined });
    expect(signedOut).toHaveLength(1);
    expect(await storedKeys(storage)).toEqual([]);
    const replay = await refreshDirectly(refreshToken!);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
  });
});

async function storedKeys(storage: TokenStorage): Promise<string[]> {
  const keys = [`gatehouse:${server.issuer}:test-spa:access`, `gatehouse:${server.issuer}:test-spa:session`];
  const present: string[] = [];
  for (const key of keys) if ((await storage.get(key)) !== undefined) present.push(key);
  return present;
}
