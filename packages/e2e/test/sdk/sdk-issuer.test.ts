// The issuer as people type it: with a trailing slash the SDK works against Gatehouse as the server's own
// ISSUER setting does (it drops the slash), and a genuinely different issuer is refused with both named.
import { createGatehouseClient, memoryStorage } from '@gatehouse/client';
import { REDIRECT_URI } from '@gatehouse/testkit/clients';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { describe, expect, it } from 'vitest';
import { MovableClock, signInWithSdk } from './support/gatehouse-behind-proxy.ts';

describe('the issuer given to the SDK', () => {
  const gh = suiteGatehouse();

  it('with a trailing slash: signs in, renews and signs out against a server whose issuer has none', async () => {
    expect(gh.issuer).not.toMatch(/\/$/);
    const clock = new MovableClock();
    const auth = await signInWithSdk(
      { issuer: `${gh.issuer}/`, gatehouse: gh },
      { clock, storage: memoryStorage(), user: 'trailing-slash-user' },
    );
    const first = await auth.getAccessToken();
    clock.advance(3600); // the access token has expired: one refresh
    const renewed = await auth.getAccessToken();
    expect(renewed).not.toBe(first);
    expect(await auth.signOut({ endSession: false })).toMatchObject({ revoked: true });
    auth.close();
  });

  it('another issuer (the same server under another host name) is refused, and the error names both', async () => {
    const other = gh.issuer.replace('localhost', '127.0.0.1');
    expect(other).not.toBe(gh.issuer);
    const auth = createGatehouseClient({
      issuer: other,
      clientId: 'spa',
      redirectUri: REDIRECT_URI,
      crossTab: false,
    });
    const error = await auth.signInRedirect({ navigate: () => undefined }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_ISSUER_MISMATCH' });
    expect((error as Error).message).toContain(gh.issuer);
    expect((error as Error).message).toContain(other);
    auth.close();
  });
});
