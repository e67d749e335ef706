import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatehouseError, memoryStorage } from '../src/index.ts';
import { type AuthServer, startAuthServer } from './support/auth-server.ts';
import { spaClient } from './support/clients.ts';

let server: AuthServer;
beforeAll(async () => {
  server = await startAuthServer();
});
afterAll(() => server.close());

async function startSignIn(auth: ReturnType<typeof spaClient>): Promise<string> {
  let authorizationUrl = '';
  await auth.signInRedirect({
    navigate: (url) => {
      authorizationUrl = url;
    },
  });
  return authorizationUrl;
}

describe('authorization code flow with PKCE', () => {
  it('signs in end to end and gets a JWT access token and a refresh token', async () => {
    const auth = spaClient(server);
    const authorizationUrl = new URL(await startSignIn(auth));
    expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizationUrl.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(authorizationUrl.searchParams.get('state')).toBeTruthy();
    expect(authorizationUrl.searchParams.get('nonce')).toBeTruthy();

    const callback = await server.approve(authorizationUrl.href);
    expect(new URL(callback).searchParams.get('iss')).toBe(server.issuer);
    const { tokens } = await auth.handleRedirectCallback(callback);

    expect(tokens.accessToken.split('.')).toHaveLength(3);
    expect(tokens.refreshToken).toBeTruthy();
    expect(tokens.idToken).toBeTruthy();
    expect(await auth.getAccessToken()).toBe(tokens.accessToken);
    expect(server.tokenRequests('authorization_code')).toBe(1);
  });

  it('rejects a callback whose state belongs to no sign-in started here', async () => {
    const auth = spaClient(server);
    const callback = new URL(await server.approve(await startSignIn(auth)));
    callback.searchParams.set('state', 'forged-state');
    await expect(auth.handleRedirectCallback(callback.href)).rejects.toMatchObject({
      code: 'ERR_STATE_MISMATCH',
    });
  });

  it('rejects a callback redeemed twice (the transaction is single-use)', async () => {
    const auth = spaClient(server);
    const callback = await server.approve(await startSignIn(auth));
    await auth.handleRedirectCallback(callback);
    await expect(auth.handleRedirectCallback(callback)).rejects.toMatchObject({ code: 'ERR_STATE_MISMATCH' });
  });

  it('rejects an ID token whose nonce is not the one this sign-in sent, and keeps no session', async () => {
    const transactions = memoryStorage();
    const auth = spaClient(server, { transactionStorage: transactions });
    const authorizationUrl = await startSignIn(auth);
    // The server will put the nonce of the authorization request into the ID token; this sign-in now
    // expects another one, as when an attacker injects the response to a sign-in of their own.
    const state = new URL(authorizationUrl).searchParams.get('state');
    const key = `gatehouse:${server.issuer}:${server.clients.spa.clientId}:txn:${state}`;
    const transaction = JSON.parse((await transactions.get(key)) ?? '{}') as Record<string, unknown>;
    await transactions.set(key, JSON.stringify({ ...transaction, nonce: 'another-nonce' }));

    const error = await auth
      .handleRedirectCallback(await server.approve(authorizationUrl))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatehouseError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_RESPONSE', message: expect.stringMatching(/ID token/) });
    expect(await auth.getTokens()).toBeUndefined();
  });

  it('rejects a callback whose RFC 9207 iss names another issuer, before exchanging the code', async () => {
    const auth = spaClient(server);
    const callback = new URL(await server.approve(await startSignIn(auth)));
    callback.searchParams.set('iss', 'https://evil.example');
    const before = server.tokenRequests('authorization_code');
    const error = await auth.handleRedirectCallback(callback.href).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatehouseError);
    expect(error).toMatchObject({ code: 'ERR_ISSUER_MISMATCH' });
    expect(server.tokenRequests('authorization_code')).toBe(before);
  });

  it('rejects a callback without iss when the server promises to send it', async () => {
    const auth = spaClient(server);
    const callback = new URL(await server.approve(await startSignIn(auth)));
    callback.searchParams.delete('iss');
    await expect(auth.handleRedirectCallback(callback.href)).rejects.toMatchObject({
      code: 'ERR_ISSUER_MISMATCH',
    });
  });

  it('signs in with the issuer given with a trailing slash, as the server accepts it in ISSUER', async () => {
    const auth = spaClient(server, { issuer: `${server.issuer}/`, storage: memoryStorage() });
    const { tokens } = await auth.handleRedirectCallback(await server.approve(await startSignIn(auth)));
    expect(await auth.getAccessToken()).toBe(tokens.accessToken);
  });

  it('refuses discovery metadata that names a different issuer, naming both', async () => {
    // The same server under another host name: its metadata names the issuer it was configured with.
    const other = server.issuer.replace('127.0.0.1', 'localhost');
    const auth = spaClient(server, { issuer: other, storage: memoryStorage() });
    const error = await startSignIn(auth).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_ISSUER_MISMATCH' });
    expect((error as Error).message).toContain(server.issuer);
    expect((error as Error).message).toContain(other);
  });
});
