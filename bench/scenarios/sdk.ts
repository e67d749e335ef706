import { join } from 'node:path';
import { bundleSize as bundleSizeFrom } from '../support/bundle-size.ts';
import { BENCH_DIR, runWorker } from '../support/child.ts';
import type { BenchContext } from '../support/context.ts';
import type { Figure } from '../support/figure.ts';
import { BENCH_SECRET } from '../support/gatehouse-process.ts';
import { median, round } from '../support/stats.ts';
import type { SdkRefreshInput, SdkRefreshResult } from '../workers/sdk-refresh.ts';
import { reactBindingsSize } from './react-bindings-size.ts';

const SCENARIO = '6 SDK';

/** What a typical SPA imports from the browser entry (the README's quick start). */
const TYPICAL_APP = ['createGatehouseClient', 'hybridStorage'];

/** The SDK's bundles resolve ky from the SDK's own package: the very version it bundles with. */
const bundleSize = (
  entry: string | string[],
  external: string[] = [],
  only?: 'default' | readonly string[],
) => bundleSizeFrom('client', entry, external, only);

/**
 * Scenario 6: single-flight refresh under 1,000 concurrent calls, and the browser bundle of the
 * SDK with and without ky beside oidc-client-ts, auth0-spa-js, msal-browser and openid-client, all built by esbuild
 * here; then the React bindings beside auth0-react and msal-react.
 */
export async function sdk(ctx: BenchContext): Promise<Figure[]> {
  const calls = 1000;
  const refresh = await runWorker<SdkRefreshResult>(join(BENCH_DIR, 'workers/sdk-refresh.ts'), {
    redisUrl: ctx.redisUrl,
    secret: BENCH_SECRET,
    calls,
    rounds: ctx.quick ? 1 : 5,
  } satisfies SdkRefreshInput);
  const worst = Math.max(...refresh.refreshRequests);
  const figures: Figure[] = [
    {
      scenario: SCENARIO,
      name: `refresh requests for ${calls} concurrent calls`,
      value: worst,
      unit: 'requests',
      target: '= 1',
      pass: refresh.refreshRequests.every((n) => n === 1),
      note: `per round: ${refresh.refreshRequests.join(', ')} (expired access token, auth.http.get(/me))`,
    },
    {
      scenario: SCENARIO,
      name: `time to all ${calls} resolved (expired token)`,
      value: round(median(refresh.ms), 0),
      unit: 'ms',
      ratio: round(median(refresh.ms) / median(refresh.validMs)),
      note: `ratio vs the same ${calls} calls with a valid token (${round(median(refresh.validMs), 0)} ms; plain fetch ${round(median(refresh.fetchMs), 0)} ms); server, API and SDK in one process`,
    },
  ];

  ctx.log('SDK: bundle sizes with esbuild');
  const entries: [string, string, string[]][] = [
    ['@gatehouse/client (with ky)', '@gatehouse/client', []],
    ['@gatehouse/client (ky external)', '@gatehouse/client', ['ky']],
    ['oidc-client-ts', 'oidc-client-ts', []],
    // The frontend SDKs issue 16 compares with; their ESM builds carry their own dependencies.
    ['@auth0/auth0-spa-js', '@auth0/auth0-spa-js', []],
    ['@azure/msal-browser', '@azure/msal-browser', []],
    ['openid-client', 'openid-client', []],
  ];
  const [sizes, kyAlone, withPopup, typical] = await Promise.all([
    Promise.all(entries.map(([, entry, external]) => bundleSize(entry, external))),
    // What an app that already uses ky ships for it: ky's default export, the only part the SDK imports.
    bundleSize('ky', [], 'default'),
    // Popup and silent sign-in live in a subpath, outside the browser entry's budget.
    bundleSize(['@gatehouse/client', '@gatehouse/client/popup']),
    // A typical SPA imports these two; everything else is reachable from the client anyway.
    bundleSize('@gatehouse/client', [], TYPICAL_APP),
  ]);
  const ours = sizes[0]!.gzip;
  const added = ours - kyAlone.gzip;
  figures.push({
    scenario: SCENARIO,
    name: '@gatehouse/client on top of ky, min+gzip',
    value: round(added / 1024, 2),
    unit: 'KiB',
    // The frontend features (validated ID token user, snapshot, per-API tokens) raised the budget to 5.5 KB.
    target: '<= 5.5 KB (5,500 bytes)',
    pass: added <= 5500,
    note: `${added} bytes: the browser entry with ky (${ours} B) minus ky's default export alone (${kyAlone.gzip} B)`,
  });
  figures.push({
    scenario: SCENARIO,
    name: "a typical SPA's imports of @gatehouse/client on top of ky, min+gzip",
    value: round((typical.gzip - kyAlone.gzip) / 1024, 2),
    unit: 'KiB',
    note: `${typical.gzip - kyAlone.gzip} bytes: { ${TYPICAL_APP.join(', ')} } with ky, minus ky alone; beside the whole entry above, not instead of it`,
  });
  figures.push({
    scenario: SCENARIO,
    name: '@gatehouse/client/popup on top of the browser entry, min+gzip',
    value: round((withPopup.gzip - ours) / 1024, 2),
    unit: 'KiB',
    note: `${withPopup.gzip - ours} bytes: signInPopup, signInSilent, handlePopupCallback; not in the browser entry`,
  });
  // Chunks the entry loads with import(), which bundlers split off: the entry's figure above holds only their
  // loaders. Redirect sign-in is what a page downloads when it starts or completes a sign-in (a page that only
  // uses the session never does); sign-out what signOut() downloads; DPoP what a client with `dpop: true`
  // downloads on its first request.
  const lazy = sizes[0]!.lazy;
  figures.push({
    scenario: SCENARIO,
    name: 'redirect sign-in chunk on top of the browser entry, min+gzip',
    value: round((lazy['redirect-sign-in.ts'] ?? Number.NaN) / 1024, 2),
    unit: 'KiB',
    note: `${lazy['redirect-sign-in.ts']} bytes: signInRedirect() and handleRedirectCallback() (PKCE, the callback's checks, the ID token's signature against the JWKS); loaded by the page that signs in and by the callback page`,
  });
  figures.push({
    scenario: SCENARIO,
    name: 'sign-out chunk on top of the browser entry, min+gzip',
    value: round((lazy['sign-out.ts'] ?? Number.NaN) / 1024, 2),
    unit: 'KiB',
    note: `${lazy['sign-out.ts']} bytes: signOut()'s revocation and RP-initiated logout, loaded on the first signOut() (the session ends here even when it does not load)`,
  });
  figures.push({
    scenario: SCENARIO,
    name: 'DPoP on top of the browser entry, min+gzip',
    value: round((lazy['dpop-fetch.ts'] ?? Number.NaN) / 1024, 2),
    unit: 'KiB',
    note: `${lazy['dpop-fetch.ts']} bytes: the lazy chunk (proofs, key store, nonces), fetched only by clients with dpop: true`,
  });
  for (const [i, [name]] of entries.entries()) {
    const size = sizes[i]!;
    figures.push({
      scenario: SCENARIO,
      name: `${name} min+gzip`,
      value: round(size.gzip / 1024, 1),
      unit: 'KiB',
      ratio: round(size.gzip / ours),
      note: `min ${round(size.min / 1024, 1)} KiB; ratio vs @gatehouse/client with ky`,
    });
  }
  figures.push(...(await reactBindingsSize(SCENARIO)));
  return figures;
}
