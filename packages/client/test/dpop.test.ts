import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createGatehouseClient,
  fileStorage,
  type GatehouseClient,
  type GatehouseEvents,
  inProcessLock,
  memoryStorage,
  SessionExpiredError,
  type TokenStorage,
} from '../src/node/index.ts';
import { type AuthServer, startAuthServer } from './support/auth-server.ts';
import { signedInSpaClient, spaClient } from './support/clients.ts';
import { type ProtectedApi, startProtectedApi } from './support/protected-api.ts';
import { TestClock } from './support/test-clock.ts';

let server: AuthServer;
let nonceServer: AuthServer;
let api: ProtectedApi;
let clock: TestClock;
let dir: string;
const opened: GatehouseClient[] = [];

beforeAll(async () => {
  server = await startAuthServer({ accessTokenTTL: 60 });
  nonceServer = await startAuthServer({ accessTokenTTL: 60, dpopRequireNonce: true });
  api = await startProtectedApi({ issuer: server.issuer, audience: server.apiResource });
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-dpop-'));
});
afterAll(async () => {
  await api.close();
  await server.close();
  await nonceServer.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  clock = new TestClock();
  api.requests.length = 0;
  api.dpopNonce = undefined;
});
afterEach(() => api.advanceClock(-apiClockAhead.splice(0).reduce((sum, seconds) => sum + seconds, 0)));
/** Seconds the API's clock was moved ahead in the current test. */
const apiClockAhead: number[] = [];
afterEach(() => {
  for (const auth of opened.splice(0)) auth.close();
});

let clients = 0;
/** A DPoP client of its own (a storage key of its own names its own key), signed in with the code flow. */
async function signIn(options: Parameters<typeof signedInSpaClient>[1] = {}, at = server) {
  const auth = await signedInSpaClient(at, {
    clock,
    dpop: true,
    storageKey: `dpop-${++clients}`,
    ...options,
  });
  opened.push(auth);
  return auth;
}

/** A refresh token grant sent directly, as a thief would: with a proof of `key`, or none. */
async function refreshDirectly(refreshToken: string, key?: CryptoKeyPair): Promise<Response> {
  const url = `${server.issuer}/token`;
  const headers: Record<string, string> = {};
  if (key) {
    headers.dpop = await new SignJWT({ htm: 'POST', htu: url, jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(key.publicKey) })
      .setIssuedAt()
      .sign(key.privateKey);
  }
  return fetch(url, {
    method: 'POST',
    headers,
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: 'test-spa',
    }),
  });
}

/** A client from `@gatehouse/client/node`, whose `fileStorage()` also keeps the DPoP key. */
function nodeClient(storage: TokenStorage, storageKey: string): GatehouseClient {
  const auth = createGatehouseClient({
    issuer: server.issuer,
    clientId: server.clients.spa.clientId,
    redirectUri: server.clients.spa.redirectUri,
    scope: 'openid offline_access recipes:read',
    resource: server.apiResource,
    storage,
    storageKey,
    dpop: true,
    clock,
    autoRefresh: false,
    crossTab: false,
  });
  opened.push(auth);
  return auth;
}

function record<E extends keyof GatehouseEvents>(auth: GatehouseClient, event: E): GatehouseEvents[E][] {
  const seen: GatehouseEvents[E][] = [];
  auth.on(event, (payload) => seen.push(payload));
  return seen;
}

describe('dpop: true', () => {
  it('binds the tokens to its key and calls the API with Authorization: DPoP and a proof', async () => {
    const auth = await signIn();
    const { accessToken } = (await auth.getTokens())!;
    const jkt = (decodeJwt(accessToken).cnf as { jkt?: string } | undefined)?.jkt;
    expect(jkt).toMatch(/^[\w-]{43}$/);

    const me = await auth.http.get(`${api.url}/me`).json<{ sub: string }>();
    expect(me.sub).toBe(server.userId);
    // The API checked the proof: the key's thumbprint is the token's jkt, htm, htu and ath match.
    expect(api.requests).toEqual([{ token: accessToken, scheme: 'DPoP', status: 200 }]);
  });

  it('never sends the token or a proof to an origin outside apiOrigins', async () => {
    const auth = await signIn({ apiOrigins: ['https://elsewhere.example'] });
    await expect(auth.http.get(`${api.url}/me`)).rejects.toMatchObject({ response: { status: 401 } });
    expect(api.requests).toEqual([{ token: undefined, scheme: undefined, status: 401 }]);
  });

  it('a stolen refresh token is refused without a proof and with another key; the client keeps working', async () => {
    const auth = await signIn();
    const { refreshToken } = (await auth.getTokens())!;
    const thief = await generateKeyPair('ES256');

    for (const response of [
      await refreshDirectly(refreshToken!),
      await refreshDirectly(refreshToken!, thief),
    ]) {
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
    }
    clock.advance(120);
    const renewed = await auth.getAccessToken();
    expect(renewed).not.toBe((await auth.getTokens())?.refreshToken);
    expect((await auth.http.get(`${api.url}/me`)).status).toBe(200);
  });

  it('1,000 concurrent auth.http calls with an expired bound token make one refresh, and all succeed', async () => {
    const auth = await signIn();
    const before = server.tokenRequests('refresh_token');
    clock.advance(120);
    const responses = await Promise.all(Array.from({ length: 1000 }, () => auth.http.get(`${api.url}/me`)));
    expect(responses.every((response) => response.status === 200)).toBe(true);
    expect(server.tokenRequests('refresh_token') - before).toBe(1);
    expect(new Set(api.requests.map((request) => request.token)).size).toBe(1);
    expect(api.requests.every((request) => request.scheme === 'DPoP')).toBe(true);
  });

  it('recovers from use_dpop_nonce at the token endpoint with exactly one retry, then reuses the nonce', async () => {
    const auth = await signIn({}, nonceServer);
    // The code exchange: one refusal asking for a nonce, one success.
    expect(nonceServer.tokenErrors()).toEqual(['use_dpop_nonce']);
    expect(nonceServer.tokenRequests('authorization_code')).toBe(2);
    clock.advance(120);
    await auth.getAccessToken();
    // The renewal carries the remembered nonce: no second refusal.
    expect(nonceServer.tokenRequests('refresh_token')).toBe(1);
    expect(nonceServer.tokenErrors()).toEqual(['use_dpop_nonce']);
  });

  it('recovers from an API asking for a nonce with exactly one retry', async () => {
    const auth = await signIn();
    api.dpopNonce = 'api-nonce-1';
    expect((await auth.http.get(`${api.url}/me`)).status).toBe(200);
    expect(api.requests.map((request) => request.status)).toEqual([401, 200]);
    // A rotated nonce: again exactly one retry per request, never a loop.
    api.dpopNonce = 'api-nonce-2';
    api.requests.length = 0;
    expect((await auth.http.get(`${api.url}/me`)).status).toBe(200);
    expect(api.requests.map((request) => request.status)).toEqual([401, 200]);
  });

  it("corrects the proofs' iat when this device's clock is behind the API's: one retry, then right at once", async () => {
    const auth = await signIn();
    // The API's clock (and its Date header) is 40 s ahead: proofs with this device's time look stale to it.
    api.advanceClock(40);
    apiClockAhead.push(40);
    expect((await auth.http.get(`${api.url}/me`)).status).toBe(200);
    expect(api.requests.map((request) => request.status)).toEqual([401, 200]);
    api.requests.length = 0;
    expect((await auth.http.get(`${api.url}/me`)).status).toBe(200);
    expect(api.requests.map((request) => request.status)).toEqual([200]);
  });

  it('a second use_dpop_nonce is returned as it is, without a loop', async () => {
    const auth = await signIn({ http: { retry: 0 } });
    await auth.getAccessToken();
    // An API that wants a nonce it never hands out in a form the proof can satisfy: rotates on every request.
    let n = 0;
    const rotating = {
      get: () => `n-${n++}`,
    };
    Object.defineProperty(api, 'dpopNonce', { get: rotating.get, set: () => {}, configurable: true });
    try {
      await expect(auth.http.get(`${api.url}/me`)).rejects.toMatchObject({ error: 'use_dpop_nonce' });
      expect(api.requests.map((request) => request.status)).toEqual([401, 401]);
    } finally {
      Object.defineProperty(api, 'dpopNonce', { value: undefined, writable: true, configurable: true });
    }
  });

  it('fileStorage keeps the key (0600) beside the tokens: a new process renews; without it the session ends once', async () => {
    const path = join(dir, 'tokens.json');
    const storageKey = 'dpop-file';
    const first = nodeClient(fileStorage(path), storageKey);
    let authorizationUrl = '';
    await first.signInRedirect({
      navigate: (url) => {
        authorizationUrl = url;
      },
    });
    await first.handleRedirectCallback(await server.approve(authorizationUrl));
    const { refreshToken } = (await first.getTokens())!;
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(path, 'utf8')) as Record<string, string>;
    const jwk = JSON.parse(saved[`${storageKey}:dpop`]!) as JsonWebKey & { d?: string };
    expect(jwk.d).toBeTruthy();
    expect(decodeJwt((await first.getTokens())!.accessToken).cnf).toEqual({
      jkt: await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y! }),
    });

    // "Another process": a client built afresh from the file renews with the stored key.
    const later = nodeClient(fileStorage(path), storageKey);
    clock.advance(120);
    await later.getAccessToken();
    expect((await later.getTokens())?.refreshToken).not.toBe(refreshToken);

    // The key is lost (the file edited by hand): the bound refresh token cannot be used; the session ends once.
    const storage = fileStorage(path);
    await storage.remove(`${storageKey}:dpop`);
    const lost = nodeClient(storage, storageKey);
    const expired = record(lost, 'sessionExpired');
    const signInRequired = record(lost, 'signInRequired');
    const refusalsBefore = server.tokenErrors().length;
    clock.advance(120);
    await expect(lost.getAccessToken()).rejects.toBeInstanceOf(SessionExpiredError);
    await expect(lost.getAccessToken()).rejects.toMatchObject({ code: 'ERR_INTERACTION_REQUIRED' });
    expect(server.tokenErrors().slice(refusalsBefore)).toEqual(['invalid_grant']);
    expect(expired).toHaveLength(1);
    expect(signInRequired).toHaveLength(1);
  });

  it('without WebCrypto the renewal fails with ERR_DPOP_UNSUPPORTED, not a network error, and keeps the session', async () => {
    const path = join(dir, 'no-webcrypto.json');
    const auth = nodeClient(fileStorage(path), 'dpop-no-webcrypto');
    let authorizationUrl = '';
    await auth.signInRedirect({
      navigate: (url) => {
        authorizationUrl = url;
      },
    });
    await auth.handleRedirectCallback(await server.approve(authorizationUrl));
    // "Another process" on a runtime without crypto.subtle (an http: page that is not localhost, say).
    const later = nodeClient(fileStorage(path), 'dpop-no-webcrypto');
    const failed = record(later, 'refreshFailed');
    const requestsBefore = server.tokenRequests();
    clock.advance(120);
    vi.stubGlobal('crypto', { getRandomValues: crypto.getRandomValues.bind(crypto) });
    try {
      await expect(later.getAccessToken()).rejects.toMatchObject({
        name: 'GatehouseError',
        code: 'ERR_DPOP_UNSUPPORTED',
      });
    } finally {
      vi.unstubAllGlobals();
    }
    expect(server.tokenRequests()).toBe(requestsBefore);
    expect(failed.map((error) => error?.code)).toEqual(['ERR_DPOP_UNSUPPORTED']);
    // WebCrypto back: the kept session renews.
    await expect(later.getAccessToken()).resolves.toMatch(/^ey/);
  });

  it('two clients of one process sharing storage share the key: either renews the bound session, once', async () => {
    const storage = memoryStorage();
    const lock = inProcessLock();
    const first = await signIn({ storage, lock, storageKey: 'dpop-shared' });
    const second = spaClient(server, { clock, dpop: true, storage, lock, storageKey: 'dpop-shared' });
    opened.push(second);
    const before = server.tokenRequests('refresh_token');
    const errorsBefore = server.tokenErrors().length;
    clock.advance(120);
    const [a, b] = await Promise.all([second.getAccessToken(), first.getAccessToken()]);
    expect(a).toBe(b);
    expect(server.tokenRequests('refresh_token') - before).toBe(1);
    expect(server.tokenErrors().slice(errorsBefore)).toEqual([]);
  });

  it('sign-out deletes the key: the next sign-in binds its tokens to a new one, and so does a file-kept key', async () => {
    const jkt = async (auth: GatehouseClient) =>
      (decodeJwt((await auth.getTokens())!.accessToken).cnf as { jkt?: string } | undefined)?.jkt;
    const signInAgain = async (auth: GatehouseClient) => {
      let authorizationUrl = '';
      await auth.signInRedirect({
        navigate: (url) => {
          authorizationUrl = url;
        },
      });
      await auth.handleRedirectCallback(await server.approve(authorizationUrl));
    };

    // Node's default key store: the key in memory.
    const auth = await signIn();
    const first = await jkt(auth);
    await auth.signOut({ endSession: false });
    await signInAgain(auth);
    const second = await jkt(auth);
    expect(second).toMatch(/^[\w-]{43}$/);
    expect(second).not.toBe(first);
    // The new key works: the API accepts the new bound token with a proof of it.
    await expect(auth.http.get(`${api.url}/me`).json()).resolves.toMatchObject({ sub: server.userId });

    // fileStorage(): the private JWK leaves the file with the tokens.
    const path = join(dir, 'sign-out.json');
    const storageKey = 'dpop-sign-out';
    const kept = nodeClient(fileStorage(path), storageKey);
    await signInAgain(kept);
    const before = await jkt(kept);
    expect(Object.keys(JSON.parse(await readFile(path, 'utf8')) as object)).toContain(`${storageKey}:dpop`);
    await kept.signOut({ endSession: false });
    expect(Object.keys(JSON.parse(await readFile(path, 'utf8')) as object)).not.toContain(
      `${storageKey}:dpop`,
    );
    await signInAgain(kept);
    expect(await jkt(kept)).not.toBe(before);
  });

  it('sign-out revokes the bound refresh token', async () => {
    const auth = await signIn();
    const { refreshToken } = (await auth.getTokens())!;
    const { revoked } = await auth.signOut({ endSession: false });
    expect(revoked).toBe(true);
    const keyless = await refreshDirectly(refreshToken!);
    expect(await keyless.json()).toMatchObject({ error: 'invalid_grant' });
  });
});
