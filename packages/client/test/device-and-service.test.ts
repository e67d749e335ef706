import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatehouseClient, type DeviceUserCode, OAuthError } from '../src/node/index.ts';
import { type AuthServer, startAuthServer } from './support/auth-server.ts';
import { type ProtectedApi, startProtectedApi } from './support/protected-api.ts';
import { TestClock } from './support/test-clock.ts';

let server: AuthServer;
let api: ProtectedApi;
beforeAll(async () => {
  server = await startAuthServer({ deviceInterval: 1 });
  api = await startProtectedApi({ issuer: server.issuer, audience: server.apiResource });
});
afterAll(async () => {
  await api.close();
  await server.close();
});

describe('device authorization grant (RFC 8628)', () => {
  it('polls at the announced interval, adds 5 s on slow_down, and signs in once the user approves', async () => {
    const clock = new TestClock();
    const auth = createGatehouseClient({
      issuer: server.issuer,
      clientId: server.clients.cli.clientId,
      scope: 'openid offline_access recipes:read',
      resource: server.apiResource,
      clock,
      autoRefresh: false,
    });
    let shown: DeviceUserCode | undefined;
    server.slowDownNextPolls(1);
    // The user approves while the CLI waits out the slowed-down interval.
    clock.onSleep = async (ms) => {
      if (ms === 6000 && shown) await server.approveDevice(shown.userCode);
    };

    const tokens = await auth.signInWithDeviceCode({
      onUserCode: (code) => {
        shown = code;
      },
    });

    expect(shown?.verificationUri).toBe(`${server.issuer}/device`);
    expect(shown?.userCode).toMatch(/\w{4}-\w{4}/);
    expect(clock.sleeps).toEqual([1000, 6000]);
    expect(server.tokenErrors()).toEqual(['slow_down']);
    expect(tokens.refreshToken).toBeTruthy();
    const me = await auth.http.get(`${api.url}/me`).json<{ sub: string; scope: string }>();
    expect(me.sub).toBe(server.userId);
    auth.close();
  });

  it('keeps polling through authorization_pending at the same interval', async () => {
    const clock = new TestClock();
    const auth = createGatehouseClient({
      issuer: server.issuer,
      clientId: server.clients.cli.clientId,
      scope: 'openid recipes:read',
      clock,
      autoRefresh: false,
    });
    let userCode = '';
    clock.onSleep = async () => {
      if (clock.sleeps.length === 3) await server.approveDevice(userCode);
    };
    await auth.signInWithDeviceCode({
      onUserCode: (code) => {
        userCode = code.userCode;
      },
    });
    expect(clock.sleeps).toEqual([1000, 1000, 1000]);
    auth.close();
  });

  it('stops when the signal aborts', async () => {
    const auth = createGatehouseClient({
      issuer: server.issuer,
      clientId: server.clients.cli.clientId,
      clock: new TestClock(),
    });
    const controller = new AbortController();
    const signIn = auth.signInWithDeviceCode({
      onUserCode: () => controller.abort(new Error('cancelled')),
      signal: controller.signal,
    });
    await expect(signIn).rejects.toThrow('cancelled');
    auth.close();
  });
});

describe('client credentials grant', () => {
  it('gets a JWT access token for the API and calls it through auth.http', async () => {
    const auth = createGatehouseClient({
      issuer: server.issuer,
      clientId: server.clients.service.clientId,
      clientSecret: server.clients.service.clientSecret,
      scope: 'recipes:read',
      resource: server.apiResource,
    });
    const tokens = await auth.signInWithClientCredentials();
    expect(tokens.refreshToken).toBeUndefined();
    expect(tokens.renewal).toBe('client_credentials');
    const me = await auth.http.get(`${api.url}/me`).json<{ client_id: string; scope: string }>();
    expect(me).toMatchObject({ client_id: server.clients.service.clientId, scope: 'recipes:read' });
    auth.close();
  });

  it('renews with client credentials again when the token expires', async () => {
    const clock = new TestClock();
    const auth = createGatehouseClient({
      issuer: server.issuer,
      clientId: server.clients.service.clientId,
      clientSecret: server.clients.service.clientSecret,
      scope: 'recipes:read',
      clock,
      autoRefresh: false,
    });
    const first = (await auth.signInWithClientCredentials()).accessToken;
    const before = server.tokenRequests('client_credentials');
    clock.advance(3600);
    const second = await auth.getAccessToken();
    expect(second).not.toBe(first);
    expect(server.tokenRequests('client_credentials') - before).toBe(1);
    auth.close();
  });

  it('maps a wrong secret to OAuthError invalid_client with its status', async () => {
    const auth = createGatehouseClient({
      issuer: server.issuer,
      clientId: server.clients.service.clientId,
      clientSecret: 'wrong',
    });
    const error = await auth.signInWithClientCredentials().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'ERR_OAUTH', error: 'invalid_client', status: 401 });
    auth.close();
  });
});
