import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryStorage, type TokenSet } from '../src/index.ts';
import { type AuthServer, startAuthServer } from './support/auth-server.ts';
import { signedInSpaClient, spaClient } from './support/clients.ts';
import { TestClock } from './support/test-clock.ts';

let server: AuthServer;
beforeAll(async () => {
  server = await startAuthServer();
});
afterAll(() => server.close());

/** Two "tabs": two clients over one storage, BroadcastChannel and Web Locks (both exist in Node 24). */
describe('between tabs', () => {
  it('a refresh in one tab reaches the other without a second refresh; sign-out reaches it too', async () => {
    const storage = memoryStorage();
    const clock = new TestClock();
    const first = await signedInSpaClient(server, { storage, clock, crossTab: true });
    const second = spaClient(server, { storage, clock, crossTab: true });
    expect((await second.getTokens())?.accessToken).toBe((await first.getTokens())?.accessToken);

    const seen = new Promise<TokenSet | undefined>((resolve) => second.on('tokensChanged', resolve));
    const refreshesBefore = server.tokenRequests('refresh_token');
    clock.advance(120);
    const refreshed = await first.getAccessToken();
    expect((await seen)?.accessToken).toBe(refreshed);
    expect(await second.getAccessToken()).toBe(refreshed);
    expect(server.tokenRequests('refresh_token') - refreshesBefore).toBe(1);

    const signedOut = new Promise<void>((resolve) => second.on('signedOut', resolve));
    await first.signOut();
    await signedOut;
    expect(await second.getTokens()).toBeUndefined();
    first.close();
    second.close();
  });
});
