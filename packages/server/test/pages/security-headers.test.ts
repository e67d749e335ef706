import { createServer, type Server } from 'node:http';
import { freePort } from '@gatehouse/testkit';
import { launchChromium } from '@gatehouse/testkit/chromium';
import Koa from 'koa';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowFormAction, securityHeaders } from '../../src/security/security-headers.ts';
import {
  CONFIDENTIAL_CLIENT_ID,
  CONFIDENTIAL_CLIENT_SECRET,
  startTestServer,
  type TestServer,
} from './support/provider.ts';

let browser: Browser;
const servers: Server[] = [];

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

async function serve(app: Koa | ((req: unknown, res: { end(body: string): void }) => void)): Promise<string> {
  const port = await freePort();
  const server = createServer(app instanceof Koa ? app.callback() : (app as never));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return `http://127.0.0.1:${port}`;
}

describe('form-action and the redirect to the client', () => {
  // Why interaction pages add the client's redirect_uri origin to form-action: Chromium
  // checks form-action on every redirect that follows a form submission.
  it("blocks a form whose redirect leaves for another origin under form-action 'self', allows it when listed", async () => {
    const elsewhere = await serve((_req, res) => res.end('arrived'));
    const app = new Koa();
    app.use(securityHeaders());
    app.use(async (ctx) => {
      if (ctx.method === 'POST') {
        ctx.redirect(`${elsewhere}/callback`);
        ctx.status = 303;
        return;
      }
      if (ctx.query.allow === '1') allowFormAction(ctx, `${elsewhere}/callback`);
      ctx.type = 'html';
      ctx.body = '<!doctype html><form method="post" action="/go"><button type="submit">Go</button></form>';
    });
    const origin = await serve(app);

    const blocked = await browser.newPage();
    await blocked.goto(`${origin}/`);
    const violation = blocked.waitForEvent('console', {
      predicate: (message) => /Content Security Policy.*form-action/is.test(message.text()),
    });
    await blocked.getByRole('button', { name: 'Go' }).click();
    // Chromium names the form's own URL: the redirect it led to is what was refused.
    expect((await violation).text()).toContain("form-action 'self'");
    expect(blocked.url().startsWith(elsewhere)).toBe(false);
    await blocked.close();

    const allowed = await browser.newPage();
    await allowed.goto(`${origin}/?allow=1`);
    await allowed.getByRole('button', { name: 'Go' }).click();
    await allowed.waitForURL(`${elsewhere}/callback`);
    expect(await allowed.locator('body').textContent()).toBe('arrived');
    await allowed.close();
  });
});

describe('client authentication lockout at the token endpoint', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ trustProxy: true });
  });
  afterAll(() => server?.close());

  const clientCredentials = (secret: string, ip = '203.0.113.7') =>
    fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-for': ip,
        authorization: `Basic ${Buffer.from(`${CONFIDENTIAL_CLIENT_ID}:${secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });

  it('answers 429 with Retry-After after 5 invalid_client failures from one address, even for the right secret', async () => {
    expect((await clientCredentials(CONFIDENTIAL_CLIENT_SECRET)).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      const failed = await clientCredentials('wrong-secret');
      expect(failed.status).toBe(401);
      expect(((await failed.json()) as { error: string }).error).toBe('invalid_client');
    }
    const locked = await clientCredentials(CONFIDENTIAL_CLIENT_SECRET);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await locked.json()) as { error: string }).error).toBe('invalid_client');
    // Five bad requests from one address do not lock the application out for everyone.
    expect((await clientCredentials(CONFIDENTIAL_CLIENT_SECRET, '198.51.100.20')).status).toBe(200);
  });
});

describe('cookies', () => {
  let plain: TestServer;
  let proxied: TestServer;
  beforeAll(async () => {
    [plain, proxied] = await Promise.all([startTestServer(), startTestServer({ trustProxy: true })]);
  });
  afterAll(() => Promise.all([plain?.close(), proxied?.close()]));

  it('sets the CSRF cookie HttpOnly and SameSite=Lax, and Secure with __Host- behind a TLS proxy', async () => {
    const overHttp = await fetch(`${plain.issuer}/register`);
    const httpCookie = overHttp.headers.get('set-cookie') ?? '';
    expect(httpCookie).toMatch(/^gatehouse\.csrf=[\w-]{43}; path=\/; samesite=lax; httponly$/);
    expect(overHttp.headers.get('strict-transport-security')).toBeNull();

    const overHttps = await fetch(`${proxied.issuer}/register`, {
      headers: { 'x-forwarded-proto': 'https' },
    });
    const httpsCookie = overHttps.headers.get('set-cookie') ?? '';
    expect(httpsCookie).toMatch(
      /^__Host-gatehouse\.csrf=[\w-]{43}; path=\/; samesite=lax; secure; httponly$/,
    );
    expect(overHttps.headers.get('strict-transport-security')).toBe('max-age=31536000');
  });
});
