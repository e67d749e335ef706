// What a frontend team needs from the SDK beyond tokens, against the real server on a real Redis and two
// real demo APIs: who is signed in (validated ID token claims, across a reload), a subscribable snapshot,
// several APIs from one sign-in with one refresh per API, errors that say what arrived, and one sign-in
// prompt when the server ends the session.
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AuthSnapshot,
  browserStorage,
  createGatehouseClient,
  type GatehouseClient,
  type GatehouseClientOptions,
  GatehouseError,
  indexedDbStorage,
  memoryStorage,
  type TokenStorage,
} from '@gatehouse/client';
import { inProcessLock } from '@gatehouse/client/node';
import { createDemoApi, type DemoApi } from '@gatehouse/demo-api';
import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { REDIRECT_URI } from '@gatehouse/testkit/clients';
import { postForm } from '@gatehouse/testkit/forms';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { authorize } from '@gatehouse/testkit/sign-in';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MovableClock } from './support/gatehouse-behind-proxy.ts';

const RECIPES = 'http://localhost:4001';
const NOTES = 'http://notes.gatehouse.test';
/** Configured at the server, never asked for at sign-in. */
const BILLING = 'http://billing.gatehouse.test';

describe('@gatehouse/client for frontend apps, against Gatehouse', { timeout: 60_000 }, () => {
  let redis: RedisProcess;
  let gh: StartedGatehouse;
  let dir: string;
  const apis: { api: DemoApi; server: Server; redis: Redis }[] = [];
  const base: Record<string, string> = {};
  const refreshes: { ok: boolean; error?: string }[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-sdk-'));
    const resources = join(dir, 'resources.json');
    await writeFile(
      resources,
      JSON.stringify([
        { uri: RECIPES, scopes: ['recipes:read', 'recipes:write'] },
        { uri: NOTES, scopes: ['notes:read'] },
        { uri: BILLING, scopes: ['billing:read'] },
      ]),
    );
    gh = await startGatehouse({
      redis,
      env: { GATEHOUSE_RESOURCES_FILE: resources },
      gatehouse: {
        onProviderCreated: (provider) => {
          provider.on('grant.success', (ctx) => {
            if (ctx.oidc.params?.grant_type === 'refresh_token') refreshes.push({ ok: true });
          });
          provider.on('grant.error', (ctx, error) => {
            if (ctx.oidc?.params?.grant_type === 'refresh_token') {
              refreshes.push({ ok: false, error: (error as { error?: string }).error ?? 'unknown' });
            }
          });
        },
      },
    });
    for (const audience of [RECIPES, NOTES]) {
      const connection = new Redis(redis.url);
      const api = createDemoApi({ issuer: gh.issuer, apiUrl: audience, redis: connection });
      const server = api.listen(0, '127.0.0.1');
      await once(server, 'listening');
      apis.push({ api, server, redis: connection });
      base[audience] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }
  });
  afterAll(async () => {
    for (const { api, server, redis: connection } of apis) {
      api.close();
      server.close();
      connection.disconnect();
    }
    await gh?.stop();
    await redis?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const client = (options: Partial<GatehouseClientOptions> = {}) =>
    createGatehouseClient({
      issuer: gh.issuer,
      clientId: 'spa',
      redirectUri: REDIRECT_URI,
      scope: 'openid profile email offline_access recipes:read notes:read',
      resource: [RECIPES, NOTES],
      crossTab: false,
      autoRefresh: false,
      ...options,
    });

  async function signIn(auth: GatehouseClient, user: string): Promise<void> {
    let authorizationUrl = '';
    await auth.signInRedirect({
      navigate: (url) => {
        authorizationUrl = url;
      },
    });
    await auth.handleRedirectCallback((await authorize(gh.server, authorizationUrl, user)).href);
  }

  describe('who is signed in', () => {
    it('getUser() is the validated ID token; a reload over the same storage knows the user after `ready`', async () => {
      const storage = memoryStorage();
      const auth = client({ storage });
      await auth.ready;
      expect(auth.getSnapshot()).toEqual({ status: 'signedOut', user: undefined, error: undefined });
      const users: unknown[] = [];
      auth.on('userChanged', (user) => users.push(user?.email));
      await signIn(auth, 'frontend-user');
      const user = await auth.getUser();
      expect(user).toMatchObject({ email: 'frontend-user@example.test', name: 'frontend-user', aud: 'spa' });
      expect(user?.iss).toBe(gh.issuer);
      expect(await auth.isAuthenticated()).toBe(true);
      expect(users).toEqual(['frontend-user@example.test']);

      const reloaded = client({ storage });
      const seen: AuthSnapshot[] = [];
      reloaded.subscribe(() => seen.push(reloaded.getSnapshot()));
      expect(reloaded.getSnapshot().status).toBe('loading');
      await reloaded.ready;
      await expect(reloaded.getUser()).resolves.toEqual(user);
      expect(seen.map((s) => s.status)).toEqual(['signedIn']);
      // useSyncExternalStore: the same object until something changes.
      expect(reloaded.getSnapshot()).toBe(seen[0]);
      expect(reloaded.getSnapshot()).toBe(reloaded.getSnapshot());
      auth.close();
      reloaded.close();
    });

    it('an ID token whose signature does not verify is refused, and the message says so', async () => {
      const tamper: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        if (!String(input).endsWith('/token')) return response;
        const body = (await response.json()) as { id_token?: string };
        // Same header and claims, another signature.
        if (body.id_token) body.id_token = `${body.id_token.slice(0, -6)}AAAAAA`;
        return Response.json(body, { status: response.status });
      };
      const auth = client({ fetch: tamper });
      const failure = signIn(auth, 'frontend-user');
      await expect(failure).rejects.toBeInstanceOf(GatehouseError);
      await expect(failure).rejects.toThrow(/ID token signature does not verify/);
      expect(await auth.getUser()).toBeUndefined();
      auth.close();
    });
    it.each([
      ['sub', { sub: 'someone-else' }, /^ID token sub is "someone-else", expected "/],
      ['iss', { iss: 'https://evil.test' }, /^ID token iss is "https:\/\/evil.test", expected "http/],
      ['aud', { aud: 'another-client' }, /^ID token aud is "another-client", expected "spa"/],
    ])(
      'a renewal whose ID token has another %s is refused, and the user stays who signed in',
      async (_, change, message) => {
        let tampering = false;
        const tamper: typeof fetch = async (input, init) => {
          const response = await fetch(input, init);
          if (!tampering || !String(input).endsWith('/token')) return response;
          const body = (await response.json()) as { id_token: string };
          const [header, payload, signature] = body.id_token.split('.');
          const claims = { ...JSON.parse(Buffer.from(String(payload), 'base64url').toString()), ...change };
          body.id_token = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
          return Response.json(body, { status: response.status });
        };
        const auth = client({ fetch: tamper });
        await signIn(auth, 'frontend-user');
        const user = await auth.getUser();
        const { refreshToken } = (await auth.getTokens()) ?? {};
        tampering = true;
        // OpenID Connect Core §12.2: a renewal's ID token has the sub, iss and aud of the sign-in's.
        const failure = auth.getAccessToken({ resource: NOTES });
        await expect(failure).rejects.toBeInstanceOf(GatehouseError);
        await expect(failure).rejects.toThrow(message);
        expect(await auth.getUser()).toEqual(user);
        expect((await auth.getTokens())?.refreshToken).toBe(refreshToken);
        auth.close();
      },
    );
  });

  describe('errors that help', () => {
    it('a callback URL without an authorization response says so, not "state mismatch"', async () => {
      const auth = client();
      const failure = auth.handleRedirectCallback('http://localhost:5173/callback');
      await expect(failure).rejects.toMatchObject({ code: 'ERR_STATE_MISMATCH' });
      await expect(failure).rejects.toThrow(/no authorization response in this URL/);
      auth.close();
    });

    it.each([
      [
        'indexedDbStorage()',
        indexedDbStorage,
        /^indexedDbStorage\(\) needs IndexedDB, which this runtime lacks/,
      ],
      [
        "browserStorage('session')",
        () => browserStorage('session'),
        /^browserStorage\('session'\) needs sessionStorage, which this runtime lacks/,
      ],
      // Without IndexedDB, 'local' means localStorage, which Node lacks too.
      [
        "browserStorage('local')",
        () => browserStorage('local'),
        /^browserStorage\('local'\) needs localStorage, which this runtime lacks/,
      ],
    ])('%s in Node is a GatehouseError naming the problem, not a TypeError', async (_, storage, message) => {
      const auth = client({ transactionStorage: storage() });
      const failure = auth.signInRedirect({ navigate: () => undefined });
      await expect(failure).rejects.toMatchObject({ name: 'GatehouseError', code: 'ERR_CONFIGURATION' });
      await expect(failure).rejects.toThrow(message);
      auth.close();
    });

    it('a session kept in a browser storage reads as signed out in Node (server rendering), without throwing', async () => {
      const auth = client({ storage: browserStorage('local') });
      await auth.ready;
      expect(auth.getSnapshot().status).toBe('signedOut');
      await expect(auth.getUser()).resolves.toBeUndefined();
      auth.close();
    });

    it("an API's refusal carries its error and error_description in the HTTPError", async () => {
      const auth = client();
      await signIn(auth, 'frontend-user');
      const failure = auth.http.post(`${base[RECIPES]}/recipes`, { json: { title: 'Soup' } });
      const error = await failure.catch((err: unknown) => err);
      expect(error).toMatchObject({
        name: 'HTTPError',
        error: 'insufficient_scope',
        response: { status: 403 },
      });
      expect((error as Error).message).toMatch(/^insufficient_scope/);
      auth.close();
    });
  });

  describe('several APIs from one sign-in', () => {
    it('500 concurrent calls to each of two APIs with expired tokens: exactly two refreshes, no replay', async () => {
      const clock = new MovableClock();
      const auth = client({ clock });
      await signIn(auth, 'two-apis-user');
      const me = (audience: string) =>
        auth.http
          .get(`${base[audience]}/me`, audience === NOTES ? { context: { resource: NOTES } } : {})
          .json<{ scope: string }>();
      // Both tokens exist and carry only their API's scopes.
      expect((await me(RECIPES)).scope).toContain('recipes:read');
      expect((await me(NOTES)).scope).toBe('notes:read');

      clock.advance(3600);
      const before = refreshes.length;
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => me(i % 2 ? NOTES : RECIPES).then(() => 'ok')),
      );
      expect(results.every((r) => r === 'ok')).toBe(true);
      expect(refreshes.slice(before)).toEqual([{ ok: true }, { ok: true }]);
      // The family is alive: the current refresh token still works.
      const tokens = await auth.getTokens();
      expect(tokens?.resources?.[`${NOTES} `]?.accessToken).toBeTruthy();
      await expect(auth.getAccessToken({ resource: NOTES, scope: 'notes:read' })).resolves.toBeTruthy();
      expect(refreshes.slice(before).every((r) => r.ok)).toBe(true);
      auth.close();
    });

    it('the server refuses a refresh for an API the grant was not consented for with invalid_target', async () => {
      const auth = client();
      await signIn(auth, 'two-apis-user');
      const { refreshToken } = (await auth.getTokens()) ?? {};
      const refused = await postForm(`${gh.issuer}/token`, {
        grant_type: 'refresh_token',
        refresh_token: String(refreshToken),
        client_id: 'spa',
        resource: BILLING,
      });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('invalid_target');
      // The SDK never sends such a request: it names the APIs the sign-in asked for.
      await expect(auth.getAccessToken({ resource: BILLING })).rejects.toMatchObject({
        code: 'ERR_CONFIGURATION',
      });
      auth.close();
    });

    it('a refused invalid_target refresh leaves the refresh token usable', async () => {
      const auth = client();
      await signIn(auth, 'two-apis-user');
      const { refreshToken } = (await auth.getTokens()) ?? {};
      const refresh = (extra: Record<string, string>) =>
        postForm(`${gh.issuer}/token`, {
          grant_type: 'refresh_token',
          refresh_token: String(refreshToken),
          client_id: 'spa',
          ...extra,
        });
      expect((await refresh({ resource: BILLING })).body.error).toBe('invalid_target');
      // Not spent: the same refresh token still rotates, so the family is alive.
      expect((await refresh({})).status).toBe(200);
      auth.close();
    });

    it('a grant consented for two APIs exchanges its code and refreshes without naming one (the first)', async () => {
      const auth = client();
      await signIn(auth, 'two-apis-user');
      const { refreshToken } = (await auth.getTokens()) ?? {};
      const plain = await postForm(`${gh.issuer}/token`, {
        grant_type: 'refresh_token',
        refresh_token: String(refreshToken),
        client_id: 'spa',
      });
      expect(plain.status).toBe(200);
      auth.close();
    });
  });

  describe('one sign-in prompt after the server ends the session', () => {
    it('the tab that hears it from the server is told to sign in; the other tab only learns the session expired', async () => {
      // Two tabs: one storage, one lock, one BroadcastChannel.
      const storage: TokenStorage = memoryStorage();
      const lock = inProcessLock();
      const first = client({ storage, lock, crossTab: true });
      await signIn(first, 'revoked-user');
      const second = client({ storage, lock, crossTab: true });
      await second.ready;
      expect(second.getSnapshot().status).toBe('signedIn');
      const prompts: string[] = [];
      const expired: string[] = [];
      for (const [name, tab] of [
        ['first', first],
        ['second', second],
      ] as const) {
        tab.on('signInRequired', () => prompts.push(name));
        tab.on('sessionExpired', () => expired.push(name));
      }

      // The session ends at the server: its refresh token is revoked (RFC 7009 revokes the grant).
      const tokens = await first.getTokens();
      await postForm(`${gh.issuer}/revoke`, {
        token: String(tokens?.refreshToken),
        token_type_hint: 'refresh_token',
        client_id: 'spa',
      });
      // The API hears of the revocation over Redis and refuses the access token; the SDK's one renewal
      // on that 401 is refused too.
      let failure: unknown;
      for (let i = 0; i < 200 && !failure; i++) {
        failure = await first.http.get(`${base[RECIPES]}/me`).then(
          () => new Promise((resolve) => setTimeout(resolve, 10)),
          (error: unknown) => error,
        );
      }
      expect(failure).toMatchObject({ code: 'ERR_SESSION_EXPIRED' });
      await expect.poll(() => expired.sort()).toEqual(['first', 'second']);
      await expect.poll(() => second.getSnapshot().status).toBe('expired');
      expect(first.getSnapshot()).toMatchObject({
        status: 'expired',
        error: { code: 'ERR_SESSION_EXPIRED' },
      });
      await expect(second.getAccessToken()).rejects.toMatchObject({ code: 'ERR_INTERACTION_REQUIRED' });
      expect(prompts).toEqual(['first']);

      // The prompted tab signs in again; the other tab follows without a prompt of its own.
      await signIn(first, 'revoked-user');
      await expect.poll(() => second.getSnapshot().status).toBe('signedIn');
      expect(prompts).toEqual(['first']);
      first.close();
      second.close();
    });
  });

  it('refresh requests of this file: none refused except where a test asked for it (no replay anywhere)', () => {
    expect(refreshes.filter((r) => !r.ok).map((r) => r.error)).toEqual([
      'invalid_target',
      'invalid_target',
      'invalid_grant',
    ]);
  });
});
