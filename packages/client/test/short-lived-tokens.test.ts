import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryStorage } from '../src/index.ts';
import { type AuthServer, startAuthServer } from './support/auth-server.ts';
import { signedInSpaClient, spaClient } from './support/clients.ts';
import { TestClock } from './support/test-clock.ts';

const TTL = 8; // seconds: shorter than the 10 s expiry margin

let server: AuthServer;
beforeAll(async () => {
  server = await startAuthServer({ accessTokenTTL: TTL });
});
afterAll(() => server.close());

describe('access tokens that live less than the 10 s expiry margin', () => {
  it('are used for the first three quarters of their life, then renewed once', async () => {
    const clock = new TestClock();
    const storage = memoryStorage();
    const auth = await signedInSpaClient(server, { clock, storage });
    const issued = (await auth.getTokens())?.accessToken;
    const refreshesBefore = server.tokenRequests('refresh_token');

    expect(await auth.getAccessToken()).toBe(issued);
    clock.advance(TTL * 0.6);
    expect(await auth.getAccessToken()).toBe(issued);
    // A client that starts from storage knows the token's lifetime too.
    const reloaded = spaClient(server, { clock, storage });
    expect(await reloaded.getAccessToken()).toBe(issued);
    reloaded.close();
    expect(server.tokenRequests('refresh_token') - refreshesBefore).toBe(0);

    clock.advance(TTL * 0.2); // into the last quarter: less than TTL / 4 left
    const renewed = await auth.getAccessToken();
    expect(renewed).not.toBe(issued);
    expect(await auth.getAccessToken()).toBe(renewed);
    expect(server.tokenRequests('refresh_token') - refreshesBefore).toBe(1);
    auth.close();
  });
});
