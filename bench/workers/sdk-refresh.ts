import type { AddressInfo } from 'node:net';
import { type Clock, createGatehouseClient } from '@gatehouse/client';
import { createDemoApi } from '@gatehouse/demo-api';
import { createGatehouseServer, loadConfig } from '@gatehouse/server';
import { freePort } from '@gatehouse/testkit';
import { REDIRECT_URI, TEST_CLIENTS } from '@gatehouse/testkit/clients';
import { authorize } from '@gatehouse/testkit/sign-in';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { API_AUDIENCE } from '../support/audience.ts';
import { workerMain } from '../support/child.ts';

export interface SdkRefreshInput {
  readonly redisUrl: string;
  readonly secret: string;
  readonly calls: number;
  readonly rounds: number;
}

export interface SdkRefreshResult {
  /** Refresh-token requests the server received, per round. */
  readonly refreshRequests: number[];
  /** Milliseconds from the first call to the last resolved, per round, with the token expired. */
  readonly ms: number[];
  /** The same with a valid access token (no refresh): the baseline of the same round. */
  readonly validMs: number[];
  /** The same with plain `fetch` and a fixed header: no SDK at all. */
  readonly fetchMs: number[];
  readonly calls: number;
}

/** Real time plus an offset the bench moves forward: the access token expires without waiting. */
class OffsetClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  async sleep(ms: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
}

/**
 * Scenario 6a: `calls` concurrent `auth.http` requests to the demo API's `/me` while the access
 * token is expired must cause exactly one refresh request. Server, API and SDK share this process,
 * as they share a page load's event loop in a browser; the server counts the refresh requests.
 */
workerMain<SdkRefreshInput, SdkRefreshResult>(async (input) => {
  const port = await freePort();
  let refreshRequests = 0;
  const countRefresh = (ctx: KoaContextWithOIDC) => {
    if (ctx.oidc.params?.grant_type === 'refresh_token') refreshRequests++;
  };
  const server = await createGatehouseServer(
    loadConfig({
      NODE_ENV: 'test',
      PORT: String(port),
      REDIS_URL: input.redisUrl,
      GATEHOUSE_SECRET: input.secret,
    }),
    {
      clients: TEST_CLIENTS,
      onProviderCreated: (provider) => {
        provider.on('grant.success', countRefresh);
        provider.on('grant.error', countRefresh);
      },
    },
  );
  await server.listen(port);
  const api = createDemoApi({ issuer: server.config.issuer, apiUrl: API_AUDIENCE, web: false });
  const apiServer = api.listen(0, '127.0.0.1');
  await new Promise((resolve) => apiServer.once('listening', resolve));
  const apiUrl = `http://127.0.0.1:${(apiServer.address() as AddressInfo).port}`;
  const clock = new OffsetClock();
  const auth = createGatehouseClient({
    issuer: server.config.issuer,
    clientId: 'spa',
    redirectUri: REDIRECT_URI,
    scope: 'openid offline_access recipes:read',
    resource: API_AUDIENCE,
    autoRefresh: false,
    crossTab: false,
    clock,
  });
  try {
    let authorizationUrl = '';
    await auth.signInRedirect({
      navigate: (url) => {
        authorizationUrl = url;
      },
    });
    const callback = await authorize(server, authorizationUrl, 'bench-sdk-user');
    await auth.handleRedirectCallback(callback.href);
    // Warm: JWKS fetched, code paths compiled; and whose `sub` every answer must carry.
    const { sub } = await auth.http.get(`${apiUrl}/me`).json<{ sub: string }>();

    const result: SdkRefreshResult = {
      refreshRequests: [],
      ms: [],
      validMs: [],
      fetchMs: [],
      calls: input.calls,
    };
    const allCalls = async (call: () => Promise<{ sub: string }>) => {
      const started = performance.now();
      const answers = await Promise.all(Array.from({ length: input.calls }, call));
      if (!answers.every((me) => me.sub === sub)) throw new Error('a call answered for someone else');
      return performance.now() - started;
    };
    for (let round = 0; round < input.rounds; round++) {
      const token = await auth.getAccessToken();
      result.fetchMs.push(
        await allCalls(async () => {
          const response = await fetch(`${apiUrl}/me`, { headers: { authorization: `Bearer ${token}` } });
          return (await response.json()) as { sub: string };
        }),
      );
      result.validMs.push(await allCalls(() => auth.http.get(`${apiUrl}/me`).json<{ sub: string }>()));
      const before = refreshRequests;
      clock.offsetMs += (server.config.accessTokenTTL + 60) * 1000; // the access token is now expired
      result.ms.push(await allCalls(() => auth.http.get(`${apiUrl}/me`).json<{ sub: string }>()));
      result.refreshRequests.push(refreshRequests - before);
    }
    return result;
  } finally {
    auth.close();
    api.close();
    apiServer.close();
    await server.close();
  }
});
