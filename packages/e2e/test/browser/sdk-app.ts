import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type * as Client from '@gatehouse/client';
import type * as Popup from '@gatehouse/client/popup';
import { freePort } from '@gatehouse/testkit';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';

const CLIENT_DIR = fileURLToPath(new URL('../../../client/', import.meta.url));

/** What an app page keeps on `window.app` for a test to read with `page.evaluate`. */
export interface SdkAppGlobals {
  sdk: typeof Client & typeof Popup;
  /** The page's client: `hybridStorage()`, redirect URI `<origin>/popup-callback.html`. */
  auth: Client.GatehouseClient;
  options: Client.GatehouseClientOptions;
  /** `signInRequired`, `sessionExpired`, `signedOut`, `userChanged`, in the order the client emitted them. */
  events: string[];
  /** `getSnapshot().status` when the page loaded, then after each change. */
  statuses: string[];
  /** How many times `auth.ready` settled. */
  readyCount: number;
  /** `getSnapshot().status` when `auth.ready` settled. */
  statusAtReady?: string;
  /** What the last `signInPopup()` started by the page's button (or `#popup-on-load`) came to. */
  popup?: Promise<Outcome>;
  outcome(promise: Promise<unknown>): Promise<Outcome>;
}

/** A settled SDK call, as plain data that crosses `page.evaluate`. */
export type Outcome =
  | { ok: true }
  | { ok: false; name: string; code?: string; error?: string; message: string };

/** An SPA's origin serving the SDK, a page that creates a client, and the popup / silent callback page. */
export interface SdkApp {
  /** `http://localhost:<port>`: the same site as the server (`http://localhost:<other port>`). */
  readonly origin: string;
  /** `http://127.0.0.1:<port>`, the same app on another site than the server. */
  readonly crossSiteOrigin: string;
  close(): Promise<void>;
}

// The page creates the client at load, as an app does, and records what a user would notice.
const APP_SCRIPT = `
import * as sdk from '/sdk.js';
const config = JSON.parse(document.getElementById('config').textContent);
const options = { ...config, redirectUri: location.origin + '/popup-callback.html', storage: sdk.hybridStorage() };
const auth = sdk.createGatehouseClient(options);
const events = [];
for (const name of ['signInRequired', 'sessionExpired', 'signedOut', 'userChanged']) auth.on(name, () => events.push(name));
const statuses = [auth.getSnapshot().status];
auth.subscribe(() => statuses.push(auth.getSnapshot().status));
let readyCount = 0;
auth.ready.then(() => {
  readyCount++;
  window.app.statusAtReady = auth.getSnapshot().status;
});
const outcome = (promise) => promise.then(
  () => ({ ok: true }),
  (e) => ({ ok: false, name: e.name, code: e.code, error: e.error, message: e.message }),
);
window.app = { sdk, auth, options, events, statuses, outcome, get readyCount() { return readyCount; } };
document.getElementById('popup').addEventListener('click', () => { window.app.popup = outcome(sdk.signInPopup(auth)); });
if (location.hash === '#popup-on-load') window.app.popup = outcome(sdk.signInPopup(auth));
`;

// The callback page of popup and silent sign-in: the documented one-liner.
const CALLBACK_PAGE = `<!doctype html><title>Signing in…</title>
<script type="module">import { handlePopupCallback } from '/sdk.js'; handlePopupCallback();</script>`;

/**
 * Serves a minimal SPA on a free port: `/` creates a client of `clientId` at `issuer` (see
 * {@link SdkAppGlobals}), `/popup-callback.html` is the popup callback page, `/sdk.js` the SDK's browser entry
 * and `@gatehouse/client/popup` bundled from source by esbuild, with its lazy chunks beside it.
 *
 * @example
 * ```ts
 * const app = await startSdkApp({ issuer: gh.issuer, clientId: 'popup-spa', scope: 'openid profile', port });
 * await page.goto(`${app.origin}/`);
 * ```
 */
export async function startSdkApp(options: {
  issuer: string;
  clientId: string;
  scope: string;
  /** A port chosen earlier, when the server has to know the app's redirect URIs first. @default a free port */
  port?: number;
  /** The client's `dpop` option (RFC 9449). */
  dpop?: boolean;
  /** The client's `resource` option (RFC 8707): JWT access tokens for that API. */
  resource?: string;
}): Promise<SdkApp> {
  const { port = await freePort(), ...config } = options;
  const bundle = await build({
    stdin: {
      contents: `export * from '@gatehouse/client'; export * from '@gatehouse/client/popup';`,
      resolveDir: CLIENT_DIR,
      loader: 'js',
    },
    bundle: true,
    // Split as an app's bundler does: redirect sign-in and DPoP are chunks the entry loads with import().
    splitting: true,
    outdir: '/sdk',
    entryNames: 'sdk',
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@gatehouse/source'],
    logLevel: 'silent',
  });
  // `/sdk.js` and the chunks it imports (`/redirect-sign-in-<hash>.js`, `/dpop-fetch-<hash>.js`).
  const scripts = new Map(bundle.outputFiles.map((file) => [`/${file.path.split('/').pop()}`, file.text]));
  const page = `<!doctype html><meta charset="utf-8"><title>SDK app</title>
<script type="application/json" id="config">${JSON.stringify(config)}</script>
<button id="popup">Sign in in a popup</button>
<script type="module">${APP_SCRIPT}</script>`;
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://app').pathname;
    const [type, body] = scripts.has(path)
      ? ['text/javascript', scripts.get(path)]
      : path === '/popup-callback.html'
        ? ['text/html', CALLBACK_PAGE]
        : path === '/'
          ? ['text/html', page]
          : [undefined, 'not found'];
    response.writeHead(type ? 200 : 404, {
      'content-type': type ?? 'text/plain',
      'cache-control': 'no-store',
    });
    response.end(body);
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    origin: `http://localhost:${port}`,
    crossSiteOrigin: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The user's part of a popup sign-in at Gatehouse: the login form as `<name>@example.test` (an account made by
 * `ensureAccount`), then "Allow" when consent is asked; resolves once the popup has closed itself.
 *
 * @example
 * ```ts
 * const [popup] = await Promise.all([page.waitForEvent('popup'), page.locator('#popup').click()]);
 * await signInInPopup(popup, 'popup-user');
 * ```
 */
export async function signInInPopup(popup: Page, user: string): Promise<void> {
  const closed = popup.waitForEvent('close');
  await popup.locator('input[name="email"]').fill(`${user}@example.test`);
  await popup.locator('input[name="password"]').fill(`${user}-password-0123456789`);
  await popup.getByRole('button', { name: 'Sign in', exact: true }).click();
  // Consent is asked once per client and user; a remembered grant goes straight to the callback page.
  const allow = popup.getByRole('button', { name: 'Allow', exact: true });
  await Promise.race([allow.click().catch(() => undefined), closed]);
  await closed;
}
