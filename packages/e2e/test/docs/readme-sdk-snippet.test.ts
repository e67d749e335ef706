// The README's SDK snippet, taken literally, as a page in Chromium against the real server and a real
// Redis: the first visit signed out does not throw, the callback is handled and leaves /callback, a
// reload keeps the session, and sign-out comes back to the app. The page's script is the snippet's own
// text, extracted from the README and bundled with esbuild; only the ports it names are replaced by the
// free ones this test runs on.
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDemoApi, type DemoApi } from '@gatehouse/demo-api';
import { demoClients } from '@gatehouse/server';
import { freePort, type RedisProcess, startRedis } from '@gatehouse/testkit';
import { launchChromium } from '@gatehouse/testkit/chromium';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { build } from 'esbuild';
import { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSdkSnippets, REPO_DIR, type ReadmeBlock, where } from './readme-blocks.ts';

const USER = { email: 'readme-reader@example.test', password: 'readme-reader-password-1' };
/** The URLs the snippets name: `pnpm start`'s server and demo API. */
const README_ISSUER = 'http://localhost:4000';
const README_API = 'http://localhost:4001';

/** The page markup the snippet describes in its `// The page: …` comment. */
function pageMarkup(block: ReadmeBlock): string {
  const markup = /^\/\/ The page: (.*)$/m.exec(block.code)?.[1];
  if (!markup) throw new Error(`${where(block)}: the snippet names no page markup ("// The page: …")`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>README snippet</title>
<script type="module" src="/app.js"></script></head><body>${markup}</body></html>`;
}

/** The snippet bundled for the browser, its URLs moved to this test's ports. */
async function bundle(block: ReadmeBlock, urls: { issuer: string; apiUrl: string }): Promise<string> {
  const contents = block.code.replaceAll(README_ISSUER, urls.issuer).replaceAll(README_API, urls.apiUrl);
  const result = await build({
    stdin: { contents, loader: 'ts', resolveDir: join(REPO_DIR, 'packages/e2e'), sourcefile: where(block) },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@gatehouse/source'],
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}

/** One origin for the page (the one `demo-spa` is registered for); `show()` sets what it serves. */
async function startPageServer(): Promise<{
  url: string;
  server: Server;
  show(html: string, script: string): void;
}> {
  const port = await freePort();
  let files = { html: '', script: '' };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://page').pathname;
    if (path === '/app.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(files.script);
    else if (path === '/' || path === '/callback') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(files.html);
    } else res.writeHead(404).end();
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://localhost:${port}`,
    server,
    show: (html, script) => {
      files = { html, script };
    },
  };
}

const snippets = [...new Map(browserSdkSnippets().map((block) => [block.code, block])).values()];

describe('the README SDK snippet as a page in Chromium', { timeout: 180_000 }, () => {
  let redis: RedisProcess;
  let gh: StartedGatehouse;
  let apiConnection: Redis;
  let api: DemoApi;
  let apiServer: Server;
  let apiUrl: string;
  let pageServer: Awaited<ReturnType<typeof startPageServer>>;
  let pageUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    redis = await startRedis();
    const apiPort = await freePort();
    apiUrl = `http://localhost:${apiPort}`;
    // The API on its free port is the resource the tokens are for.
    const resources = join(mkdtempSync(join(tmpdir(), 'gatehouse-readme-')), 'resources.json');
    writeFileSync(resources, JSON.stringify([{ uri: apiUrl, scopes: ['recipes:read', 'recipes:write'] }]));
    // The page gets its own origin, where `demo-spa` is registered (redirect and post-logout URIs).
    pageServer = await startPageServer();
    pageUrl = pageServer.url;
    gh = await startGatehouse({
      redis,
      env: { GATEHOUSE_RESOURCES_FILE: resources },
      gatehouse: { clients: demoClients(pageUrl).clients },
    });
    await gh.server.accounts.create({ ...USER, name: 'README Reader', emailVerified: true });
    apiConnection = new Redis(redis.url);
    api = createDemoApi({ issuer: gh.issuer, apiUrl, redis: apiConnection, web: false });
    apiServer = api.listen(apiPort, '127.0.0.1');
    await once(apiServer, 'listening');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    pageServer?.server.close();
    api?.close();
    apiServer?.close();
    apiConnection?.disconnect();
    await gh?.stop();
    await redis?.cleanup();
  });

  it('finds the snippet in the root README and in the client README', () => {
    const files = browserSdkSnippets().map((block) => block.file);
    expect(files).toContain('README.md');
    expect(files).toContain('packages/client/README.md');
  });

  it.each(snippets.map((block) => [where(block), block] as const))(
    '%s: signed out, sign in, reload, sign out, back in the app',
    async (_where, block) => {
      pageServer.show(pageMarkup(block), await bundle(block, { issuer: gh.issuer, apiUrl }));

      const context = await browser.newContext();
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      const out = page.locator('#out');
      try {
        // First visit, signed out: no error, the snippet says so.
        await page.goto(`${pageUrl}/`);
        await expect.poll(() => out.textContent()).toBe('Signed out');

        // Sign in through the server's pages; the callback is handled and the address bar leaves /callback.
        await signInAtServer(page, gh.issuer);
        await page.waitForURL((url) => url.href.startsWith(pageUrl));
        await expect.poll(() => out.textContent(), { timeout: 10_000 }).toContain('"data"');
        expect(page.url()).toBe(`${pageUrl}/`);

        // A reload keeps the session (refresh token in storage) and handles no callback twice.
        await page.reload();
        await expect.poll(() => out.textContent(), { timeout: 10_000 }).toContain('"data"');
        expect(page.url()).toBe(`${pageUrl}/`);

        // Sign-out ends the session at the server and comes back to the app, signed out. The SDK sends the
        // ID token as id_token_hint, so Gatehouse signs out without asking (its page submits itself): a click
        // there would race that submission and could land after the next navigation.
        await page.getByRole('button', { name: 'Sign out', exact: true }).click();
        await page.waitForURL((url) => url.href.startsWith(`${gh.issuer}/`));
        await page.waitForURL(`${pageUrl}/`);
        await expect.poll(() => out.textContent()).toBe('Signed out');

        // A stale callback link: an error on the page, not a stuck /callback.
        await page.goto(`${pageUrl}/callback?code=stale&state=stale&iss=${encodeURIComponent(gh.issuer)}`);
        await expect.poll(() => out.textContent()).toMatch(/^ERR_STATE_MISMATCH/);
        expect(page.url()).toBe(`${pageUrl}/`);

        expect(pageErrors).toEqual([]);
      } finally {
        await context.close();
      }
    },
  );
});

/** Plays the user's part: "Sign in" on the page, the server's login form, and "Allow" when consent is asked. */
async function signInAtServer(page: Page, issuer: string): Promise<void> {
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((url) => url.href.startsWith(`${issuer}/interaction/`));
  await page.locator('input[name="email"]').fill(USER.email);
  await page.locator('input[name="password"]').fill(USER.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  const allow = page.getByRole('button', { name: 'Allow', exact: true });
  await Promise.race([
    allow.waitFor().catch(() => undefined),
    page.waitForURL((url) => !url.href.startsWith(issuer)).catch(() => undefined),
  ]);
  if (await allow.isVisible()) await allow.click();
}
