import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REVOCATION_CHANNEL, type RevocationEvent } from '@gatehouse/resource/revocation-contract';
import { startRedis } from '@gatehouse/testkit';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, type Store } from '../../src/store/index.ts';
import { connect } from './redis-target.ts';

/**
 * The Redis adapter under a real oidc-provider: what a client notices at the token endpoint.
 * (The provider here is a minimal one; the server's own configuration is tested elsewhere.)
 */
describe('oidc-provider on the Redis store', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let store: Store;
  let provider: Provider;
  let server: Server;
  let tokenUrl: string;
  const redirectUri = 'https://app.example/cb';
  const basic = `Basic ${Buffer.from('app:app-secret-app-secret-app-secret').toString('base64')}`;

  beforeAll(async () => {
    redis = await startRedis();
    store = await createStore({
      redis: { kind: 'standalone', url: redis.url },
      tokenStore: { revokedTTL: 3600, accessTokenTTL: 900 },
    });
    provider = new Provider('http://127.0.0.1', {
      adapter: store.Adapter,
      clients: [
        {
          client_id: 'app',
          client_secret: 'app-secret-app-secret-app-secret',
          grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
          redirect_uris: [redirectUri],
        },
      ],
      features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
      scopes: ['openid', 'offline_access', 'api'],
      findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
      ttl: {
        AccessToken: 900,
        AuthorizationCode: 60,
        ClientCredentials: 900,
        Grant: 3600,
        IdToken: 900,
        RefreshToken: 3600,
      },
    });
    server = createServer(provider.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await store?.close();
    await redis?.cleanup();
  });

  const token = (body: Record<string, string>) =>
    fetch(tokenUrl, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body),
    });

  /** An authorization code as the authorization endpoint would have issued it after consent. */
  async function issueCode(): Promise<{ code: string; verifier: string; grantId: string }> {
    const client = await provider.Client.find('app');
    if (client === undefined) throw new Error('client app missing');
    const grant = new provider.Grant({ accountId: 'user-1', clientId: 'app' });
    grant.addOIDCScope('openid offline_access');
    const grantId = await grant.save();
    const verifier = randomBytes(32).toString('base64url');
    const code = await new provider.AuthorizationCode({
      accountId: 'user-1',
      client,
      grantId,
      redirectUri,
      scope: 'openid offline_access',
      authTime: Math.floor(Date.now() / 1000),
      codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
      codeChallengeMethod: 'S256',
      gty: 'authorization_code',
    }).save();
    return { code, verifier, grantId };
  }

  const redeem = (code: string, verifier: string) =>
    token({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri });

  it('redeems a code once when two requests race for it (RFC 6749 §4.1.2)', async () => {
    const { code, verifier } = await issueCode();
    const responses = await Promise.all(Array.from({ length: 5 }, () => redeem(code, verifier)));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 400, 400, 400, 400]);
    for (const response of responses.filter((r) => r.status === 400)) {
      expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
    }
  });

  it('revokes the grant on a replayed code and announces it to resource servers', async () => {
    const subscriber = await connect({ kind: 'standalone', url: redis.url });
    const events: RevocationEvent[] = [];
    subscriber.on('message', (_channel: string, message: string) => events.push(JSON.parse(message)));
    await subscriber.subscribe(REVOCATION_CHANNEL);
    try {
      const { code, verifier, grantId } = await issueCode();
      const first = await redeem(code, verifier);
      expect(first.status).toBe(200);
      const { refresh_token: refreshToken } = (await first.json()) as { refresh_token: string };
      expect(refreshToken).toBeTypeOf('string');

      const replay = await redeem(code, verifier);
      expect(replay.status).toBe(400);
      // The refresh token the first redemption issued stopped working with its grant.
      const refresh = await token({ grant_type: 'refresh_token', refresh_token: refreshToken });
      expect(refresh.status).toBe(400);
      expect(await refresh.json()).toMatchObject({ error: 'invalid_grant' });

      const deadline = Date.now() + 3_000;
      while (!events.some((e) => e.id === grantId) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(events.filter((e) => e.id === grantId)).toHaveLength(1);
    } finally {
      subscriber.disconnect();
    }
  });

  it('answers 503 temporarily_unavailable while Redis is down, then works again', async () => {
    const ok = await token({ grant_type: 'client_credentials', scope: 'api' });
    expect(ok.status).toBe(200);

    await redis.stop();
    const down = await token({ grant_type: 'client_credentials', scope: 'api' });
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'the token store is unavailable, retry shortly',
    });

    await redis.restart();
    const deadline = Date.now() + 8_000;
    let status = 0;
    while (status !== 200 && Date.now() < deadline) {
      status = (await token({ grant_type: 'client_credentials', scope: 'api' })).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
  });
});
