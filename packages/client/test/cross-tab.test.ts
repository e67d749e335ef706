import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatehouseClient, hybridStorage, memoryStorage, type TokenSet } from '../src/index.ts';
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

/** Refreshes at the token endpoint as another tab would; resolves the new access and refresh token. */
async function refreshElsewhere(
  refreshToken: string,
): Promise<{ access_token: string; refresh_token: string }> {
  const response = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: server.clients.spa.clientId,
      resource: server.apiResource,
    }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { access_token: string; refresh_token: string };
}

describe('between tabs with hybridStorage (access token only in each tab’s memory)', () => {
  const prefix = () => `gatehouse:${server.issuer}:${server.clients.spa.clientId}`;
  const opened: GatehouseClient[] = [];
  const tab = (persistent: ReturnType<typeof memoryStorage>, clock: TestClock) => {
    const auth = spaClient(server, { storage: hybridStorage(persistent), clock, crossTab: true });
    opened.push(auth);
    return auth;
  };
  afterAll(() => {
    for (const auth of opened) auth.close();
  });
  /** Storage in which a tab that has since closed signed in: the refresh token only, as hybridStorage keeps it. */
  const signedInElsewhere = async () => {
    const persistent = memoryStorage();
    (await signedInSpaClient(server, { storage: hybridStorage(persistent) })).close();
    return persistent;
  };
  /** The tokens the tab that rotated would broadcast, valid for a minute. */
  const asBroadcast = (
    rotated: { access_token: string; refresh_token: string },
    clock: TestClock,
  ): TokenSet => ({
    accessToken: rotated.access_token,
    expiresAt: clock.now() + 60_000,
    issuedAt: clock.now(),
    refreshToken: rotated.refresh_token,
  });
  /** Another tab rotates `auth`'s refresh token at the server and stores the new one; no broadcast is sent. */
  const rotateInAnotherTab = async (auth: GatehouseClient, persistent: ReturnType<typeof memoryStorage>) => {
    const rotated = await refreshElsewhere((await auth.getTokens())?.refreshToken ?? '');
    const sessionKey = `${prefix()}:session`;
    const session = JSON.parse((await persistent.get(sessionKey)) ?? '{}') as Record<string, unknown>;
    await persistent.set(sessionKey, JSON.stringify({ ...session, refreshToken: rotated.refresh_token }));
    return rotated;
  };

  it('a token expiring in both tabs at once is refreshed once, and both use the new one', async () => {
    const persistent = memoryStorage();
    const clock = new TestClock();
    const first = await signedInSpaClient(server, {
      storage: hybridStorage(persistent),
      clock,
      crossTab: true,
    });
    opened.push(first);
    const second = tab(persistent, clock);
    const shared = await second.getAccessToken();
    expect(shared).toBe((await first.getTokens())?.accessToken);

    const refreshesBefore = server.tokenRequests('refresh_token');
    clock.advance(120);
    const [a, b] = await Promise.all([first.getAccessToken(), second.getAccessToken()]);
    expect(server.tokenRequests('refresh_token') - refreshesBefore).toBe(1);
    expect(a).not.toBe(shared);
    expect(b).toBe(a);
  });

  it('a new tab takes the access token of an open tab instead of refreshing', async () => {
    const persistent = memoryStorage();
    const clock = new TestClock();
    const first = await signedInSpaClient(server, {
      storage: hybridStorage(persistent),
      clock,
      crossTab: true,
    });
    opened.push(first);
    const refreshesBefore = server.tokenRequests('refresh_token');
    // Storage holds the refresh token only; the access token lives in the first tab's memory.
    const second = tab(persistent, clock);
    const third = tab(persistent, clock);
    const [a, b] = await Promise.all([second.getAccessToken(), third.getAccessToken()]);
    const current = (await first.getTokens())?.accessToken;
    expect([a, b]).toEqual([current, current]);
    expect(server.tokenRequests('refresh_token') - refreshesBefore).toBe(0);
  });

  it('a new tab with no open tab to ask renews once with the stored refresh token', async () => {
    const persistent = memoryStorage();
    const clock = new TestClock();
    const seed = await signedInSpaClient(server, { storage: hybridStorage(persistent), clock });
    const old = (await seed.getTokens())?.accessToken;
    seed.close();
    const refreshesBefore = server.tokenRequests('refresh_token');
    const auth = tab(persistent, clock);
    const token = await auth.getAccessToken();
    expect(token).not.toBe(old);
    expect(server.tokenRequests('refresh_token') - refreshesBefore).toBe(1);
  });

  it('under the lock, takes the tokens another tab broadcast for the refresh token it finds rotated', async () => {
    const persistent = await signedInElsewhere();
    const clock = new TestClock();
    const auth = tab(persistent, clock);
    // Another tab rotated the refresh token and stored it; its broadcast is still on the way.
    const rotated = await rotateInAnotherTab(auth, persistent);
    const refreshesBefore = server.tokenRequests('refresh_token');
    const otherTab = new BroadcastChannel(prefix());
    setTimeout(() => {
      otherTab.postMessage({ type: 'tokens', tokens: asBroadcast(rotated, clock) });
    }, 100);

    expect(await auth.getAccessToken()).toBe(rotated.access_token);
    expect(server.tokenRequests('refresh_token') - refreshesBefore).toBe(0);
    otherTab.close();
  });

  it('takes the other tab’s tokens also when they arrive while it reads storage under the lock', async () => {
    const persistent = await signedInElsewhere();
    const clock = new TestClock();
    const sessionKey = `${prefix()}:session`;
    const otherTab = new BroadcastChannel(prefix());
    let arrivesDuringRead: TokenSet | undefined;
    // Delivers the other tab's message in the middle of this tab's storage read (seen in Chromium).
    const slowReads: typeof persistent = {
      ...persistent,
      async get(key) {
        const value = await persistent.get(key);
        if (key === sessionKey && arrivesDuringRead) {
          otherTab.postMessage({ type: 'tokens', tokens: arrivesDuringRead });
          arrivesDuringRead = undefined;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return value;
      },
    };
    const auth = spaClient(server, { storage: hybridStorage(slowReads), clock, crossTab: true });
    opened.push(auth);
    const rotated = await rotateInAnotherTab(auth, persistent);
    arrivesDuringRead = asBroadcast(rotated, clock);
    const refreshesBefore = server.tokenRequests('refresh_token');

    expect(await auth.getAccessToken()).toBe(rotated.access_token);
    expect(server.tokenRequests('refresh_token') - refreshesBefore).toBe(0);
    otherTab.close();
  });

  it('when no broadcast comes, renews with the rotated refresh token from storage, never the old one', async () => {
    const persistent = await signedInElsewhere();
    const clock = new TestClock();
    const auth = tab(persistent, clock);
    const expired: unknown[] = [];
    auth.on('sessionExpired', (error) => expired.push(error));
    const rotated = await rotateInAnotherTab(auth, persistent);

    const token = await auth.getAccessToken();
    expect(token).not.toBe(rotated.access_token);
    expect(expired).toEqual([]);
    expect((await auth.getTokens())?.refreshToken).not.toBe(rotated.refresh_token);
  });
});
