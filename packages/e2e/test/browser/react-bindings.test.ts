// @gatehouse/react with real React in Chromium against the real server and a real Redis. The page is
// server-rendered with renderToString and hydrated in <StrictMode> (which runs every effect twice): a
// signed-out visitor is sent to sign in by <RequireAuth>, signs in through the server's pages, and the
// callback is exchanged exactly once at the server; the page then shows the user's name (useAuth) and an API
// answer obtained with useAccessToken(). Hydration leaves no error or warning in the console.
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGatehouseClient } from '@gatehouse/client';
import { createDemoApi, type DemoApi } from '@gatehouse/demo-api';
import { freePort, type RedisProcess, startRedis } from '@gatehouse/testkit';
import { launchChromium } from '@gatehouse/testkit/chromium';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { build } from 'esbuild';
import { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Root } from './react/app.tsx';

const USER = {
  email: 'react-reader@example.test',
  password: 'react-reader-password-1',
  name: 'React Reader',
};

/**
 * The app's own public client. Not the seeded `demo-spa`, which is DPoP-bound: this app calls the API with
 * `Bearer` (the subject here is the React bindings, not DPoP).
 */
const CLIENT_ID = 'react-spa';

/** The browser entry bundled as a team's build would: React's development build, which reports hydration problems. */
async function bundleApp(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./react/main.tsx', import.meta.url))],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    conditions: ['@gatehouse/source'],
    define: { 'process.env.NODE_ENV': '"development"' },
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}

/** The page server: every path gets the server-rendered markup, `/app.js` the bundle. */
async function startPageServer(render: () => string): Promise<{ url: string; server: Server }> {
  const port = await freePort();
  let script: Promise<string> | undefined;
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://page').pathname;
    if (path === '/app.js') {
      script ??= bundleApp();
      void script.then((code) => res.writeHead(200, { 'content-type': 'text/javascript' }).end(code));
    } else if (path === '/favicon.ico') res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'text/html' }).end(render());
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://localhost:${port}`, server };
}

describe('@gatehouse/react in Chromium, server-rendered and hydrated in Strict Mode', {
  timeout: 120_000,
}, () => {
  let redis: RedisProcess;
  let gh: StartedGatehouse;
  let apiConnection: Redis;
  let api: DemoApi;
  let apiServer: Server;
  let apiUrl: string;
  let page: { url: string; server: Server };
  let browser: Browser;
  /** Every authorization code the token endpoint was asked to exchange, and whether it did. */
  const exchanges: { ok: boolean }[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const apiPort = await freePort();
    apiUrl = `http://localhost:${apiPort}`;
    const resources = join(mkdtempSync(join(tmpdir(), 'gatehouse-react-')), 'resources.json');
    writeFileSync(resources, JSON.stringify([{ uri: apiUrl, scopes: ['recipes:read', 'recipes:write'] }]));
    const isCode = (params: unknown) =>
      (params as { grant_type?: unknown } | undefined)?.grant_type === 'authorization_code';
    // The server renders with a client of its own (memory storage): it never asks the issuer anything.
    let html = '';
    page = await startPageServer(() => html);
    gh = await startGatehouse({
      redis,
      env: { GATEHOUSE_RESOURCES_FILE: resources },
      gatehouse: {
        clients: [
          {
            client_id: CLIENT_ID,
            application_type: 'web',
            token_endpoint_auth_method: 'none',
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            redirect_uris: [`${page.url}/`, `${page.url}/callback`],
            post_logout_redirect_uris: [`${page.url}/`],
            scope: 'openid profile email offline_access recipes:read recipes:write',
          },
        ],
        onProviderCreated(provider) {
          provider.on('grant.success', (ctx) => isCode(ctx.oidc.params) && exchanges.push({ ok: true }));
          provider.on('grant.error', (ctx) => isCode(ctx.oidc.params) && exchanges.push({ ok: false }));
        },
      },
    });
    const serverClient = createGatehouseClient({ issuer: gh.issuer, clientId: CLIENT_ID });
    const config = JSON.stringify({ issuer: gh.issuer, apiUrl, clientId: CLIENT_ID }).replaceAll(
      '<',
      '\\u003c',
    );
    html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>React app</title>
<script type="application/json" id="config">${config}</script><script type="module" src="/app.js"></script>
</head><body><div id="root">${renderToString(createElement(Root, { client: serverClient, apiUrl }))}</div></body></html>`;
    serverClient.close();
    await gh.server.accounts.create({ ...USER, emailVerified: true });
    apiConnection = new Redis(redis.url);
    api = createDemoApi({ issuer: gh.issuer, apiUrl, redis: apiConnection, web: false });
    apiServer = api.listen(apiPort, '127.0.0.1');
    await once(apiServer, 'listening');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    page?.server.close();
    api?.close();
    apiServer?.close();
    apiConnection?.disconnect();
    await gh?.stop();
    await redis?.cleanup();
  });

  it('signed out → sign-in → one code exchange → name and API answer; a reload stays signed in; sign-out', async () => {
    const context = await browser.newContext();
    const tab = await context.newPage();
    const problems: string[] = [];
    tab.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    tab.on('console', (message) => {
      // The sign-in pages have no icon; Chromium asks for one anyway.
      if (message.location().url.endsWith('/favicon.ico')) return;
      if (['error', 'warning'].includes(message.type()))
        problems.push(`${message.type()}: ${message.text()}`);
    });
    try {
      // Signed out: the hydrated guard sends the visitor to the server's sign-in page, remembering the path.
      await tab.goto(`${page.url}/recipes?sort=new`);
      await tab.waitForURL((url) => url.href.startsWith(`${gh.issuer}/interaction/`));
      expect(problems).toEqual([]);
      await signInAtServer(tab, gh.issuer);

      // Back on /callback: exchanged once (Strict Mode ran the guard's effect twice), then back where the user was.
      await tab.waitForURL(`${page.url}/recipes?sort=new`);
      await expect
        .poll(() => tab.locator('#user').textContent(), { timeout: 10_000 })
        .toBe(`Signed in as ${USER.name}`);
      await expect
        .poll(() => tab.locator('#api').textContent(), { timeout: 10_000 })
        .toBe(`${CLIENT_ID} may recipes:read`);
      expect(exchanges).toEqual([{ ok: true }]);

      // A reload hydrates again and stays signed in (hybridStorage), with no second exchange.
      await tab.reload();
      await expect
        .poll(() => tab.locator('#user').textContent(), { timeout: 10_000 })
        .toBe(`Signed in as ${USER.name}`);
      await expect
        .poll(() => tab.locator('#api').textContent(), { timeout: 10_000 })
        .toContain(`${CLIENT_ID} may`);
      expect(tab.url()).toBe(`${page.url}/recipes?sort=new`);
      expect(exchanges).toEqual([{ ok: true }]);

      // Sign-out leaves for the server's end-session endpoint; the guard, seeing the user signed out, must not
      // race it with a sign-in redirect. Back in the app, signed out, the guard asks for a sign-in again, and
      // the server, its session ended, shows the login form.
      await tab.getByRole('button', { name: 'Sign out', exact: true }).click();
      await tab.waitForURL((url) => url.href.startsWith(`${gh.issuer}/session/end`));
      await tab.waitForURL((url) => url.href.startsWith(`${gh.issuer}/interaction/`));
      await tab.locator('input[name="password"]').waitFor();
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

/** Plays the user's part at the server: the login form, and "Allow" when consent is asked. */
async function signInAtServer(tab: Page, issuer: string): Promise<void> {
  await tab.locator('input[name="email"]').fill(USER.email);
  await tab.locator('input[name="password"]').fill(USER.password);
  await tab.getByRole('button', { name: 'Sign in', exact: true }).click();
  const allow = tab.getByRole('button', { name: 'Allow', exact: true });
  await Promise.race([
    allow.waitFor().catch(() => undefined),
    tab.waitForURL((url) => !url.href.startsWith(issuer)).catch(() => undefined),
  ]);
  if (await allow.isVisible()) await allow.click();
}
