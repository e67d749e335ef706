import { freePort, type RedisProcess, startRedis } from '@gatehouse/testkit';
import { launchChromium } from '@gatehouse/testkit/chromium';
import { TEST_CLIENTS } from '@gatehouse/testkit/clients';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { ensureAccount } from '@gatehouse/testkit/sign-in';
import type { ClientMetadata } from 'oidc-provider';
import type { Browser } from 'playwright-core';
import { type SdkApp, startSdkApp } from './sdk-app.ts';

/** One refresh-token grant the server answered, in order: what the tabs' renewals came to. */
export interface RefreshOutcome {
  ok: boolean;
  error?: string;
}

/** What {@link startSdkRig} started; `stop()` ends all of it. */
export interface SdkRig {
  redis: RedisProcess;
  gh: StartedGatehouse;
  app: SdkApp;
  browser: Browser;
  /** Every refresh-token grant, as the server's `grant.success` / `grant.error` events saw it. */
  refreshes: RefreshOutcome[];
  stop(): Promise<void>;
}

/**
 * The SDK browser tests' setup: a private Redis, Gatehouse with a public SPA client `clientId` whose
 * callback is the app's `/popup-callback.html` (on `localhost` and, with `crossSite`, on `127.0.0.1`), an
 * account `user`, the SDK app of {@link startSdkApp}, and Chromium.
 *
 * @example
 * ```ts
 * let rig: SdkRig;
 * beforeAll(async () => { rig = await startSdkRig({ clientId: 'tabs-spa', user: 'tabs-user', scope: 'openid' }); }, 60_000);
 * afterAll(() => rig?.stop());
 * ```
 */
export async function startSdkRig(options: {
  clientId: string;
  user: string;
  scope: string;
  /** Extra server environment, e.g. `ACCESS_TOKEN_TTL`. */
  env?: Record<string, string>;
  /** Also register the callback on `http://127.0.0.1:<port>`, the app's cross-site origin. */
  crossSite?: boolean;
  /** Keep Chromium's popup blocker on, as in a user's browser. */
  popupBlocking?: boolean;
  dpop?: boolean;
  resource?: string;
}): Promise<SdkRig> {
  const { clientId, user, scope, env, crossSite, popupBlocking, ...appOptions } = options;
  const refreshes: RefreshOutcome[] = [];
  const redis = await startRedis();
  const stops: (() => Promise<void>)[] = [() => redis.cleanup()];
  const stop = async () => {
    for (const step of stops.reverse()) await step();
  };
  try {
    // The server must know the app's callback page before the app knows the issuer.
    const port = await freePort();
    const spa: ClientMetadata = {
      client_id: clientId,
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [
        `http://localhost:${port}/popup-callback.html`,
        ...(crossSite ? [`http://127.0.0.1:${port}/popup-callback.html`] : []),
      ],
      application_type: 'web',
    };
    const gh = await startGatehouse({
      redis,
      ...(env ? { env } : {}),
      gatehouse: {
        clients: [...TEST_CLIENTS, spa],
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
    stops.push(() => gh.stop());
    await ensureAccount(gh.server, user);
    const app = await startSdkApp({ issuer: gh.issuer, clientId, scope, port, ...appOptions });
    stops.push(() => app.close());
    const browser = await launchChromium(popupBlocking ? { popupBlocking } : {});
    stops.push(() => browser.close());
    return { redis, gh, app, browser, refreshes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
