import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startRedis } from '@gatehouse/testkit';
import { basic, REDIRECT_URI, SERVICE_SECRET } from '@gatehouse/testkit/clients';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { signIn } from '@gatehouse/testkit/sign-in';
import { describe, expect, it } from 'vitest';

/** The public `spa` client's pages run here (its redirect URI's origin, not the server's). */
const SPA_ORIGIN = new URL(REDIRECT_URI).origin;
const FOREIGN_ORIGIN = 'https://evil.example';

interface BrowserResponse {
  readonly status: number;
  /** What the browser lets the page read: null means the page sees a network error instead. */
  readonly allowOrigin: string | null;
  readonly body: Record<string, unknown>;
}

/** A cross-origin `fetch` as a page at `origin` makes it (the browser adds `Origin`). */
async function fromPage(
  origin: string,
  url: string,
  init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<BrowserResponse> {
  const response = await fetch(url, {
    method: init.method ?? (init.form ? 'POST' : 'GET'),
    headers: {
      origin,
      ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      ...init.headers,
    },
    ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    allowOrigin: response.headers.get('access-control-allow-origin'),
    body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** A CORS preflight for a form POST carrying `headers`. */
function preflight(origin: string, url: string, headers = 'content-type') {
  return fetch(url, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': headers },
  });
}

describe('CORS at the token, revocation, introspection and userinfo endpoints (real server, real Redis)', () => {
  const gh = suiteGatehouse();

  const refresh = (origin: string, refreshToken: string) =>
    fromPage(origin, `${gh.issuer}/token`, {
      form: { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'spa' },
    });

  it('a page on the SPA’s origin reads its refresh; a foreign page is refused, cannot read, and used up nothing', async () => {
    const { refreshToken } = await signIn(gh.server, gh.issuer, 'cors-user');

    const foreign = await refresh(FOREIGN_ORIGIN, refreshToken);
    expect(foreign.allowOrigin).toBeNull();
    expect(foreign.status).toBe(400);
    expect(foreign.body.error).toBe('invalid_request');

    const own = await refresh(SPA_ORIGIN, refreshToken);
    expect(own.status).toBe(200);
    expect(own.allowOrigin).toBe(SPA_ORIGIN);
    expect(own.body.access_token).toEqual(expect.any(String));
  });

  it('a foreign page cannot revoke the user’s refresh token (signing them out); the SPA’s page can', async () => {
    const { refreshToken } = await signIn(gh.server, gh.issuer, 'cors-user');
    const revoke = (origin: string) =>
      fromPage(origin, `${gh.issuer}/revoke`, { form: { token: refreshToken, client_id: 'spa' } });

    const foreign = await revoke(FOREIGN_ORIGIN);
    expect(foreign.allowOrigin).toBeNull();
    expect(foreign.status).toBe(400);
    // Still signed in: the token still refreshes.
    const stillValid = await refresh(SPA_ORIGIN, refreshToken);
    expect(stillValid.status).toBe(200);

    const own = await revoke(SPA_ORIGIN);
    expect(own.status).toBe(200);
    expect(own.allowOrigin).toBe(SPA_ORIGIN);
  });

  it('userinfo is readable from the SPA’s origin only', async () => {
    const { tokens } = await signIn(gh.server, gh.issuer, 'cors-user', 'openid profile');
    const userinfo = (origin: string) =>
      fromPage(origin, `${gh.issuer}/userinfo`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });

    const own = await userinfo(SPA_ORIGIN);
    expect(own.status).toBe(200);
    expect(own.allowOrigin).toBe(SPA_ORIGIN);
    expect(own.body.sub).toEqual(expect.any(String));

    const foreign = await userinfo(FOREIGN_ORIGIN);
    expect(foreign.allowOrigin).toBeNull();
    expect(foreign.body.sub).toBeUndefined();
  });

  it('errors raised before the client is known are not readable cross-origin either', async () => {
    const unknownClient = await fromPage(FOREIGN_ORIGIN, `${gh.issuer}/token`, {
      form: { grant_type: 'refresh_token', refresh_token: 'x', client_id: 'nobody' },
    });
    expect(unknownClient.status).toBe(401);
    expect(unknownClient.allowOrigin).toBeNull();

    const badToken = await fromPage(FOREIGN_ORIGIN, `${gh.issuer}/userinfo`, {
      headers: { authorization: 'Bearer not-a-token' },
    });
    expect(badToken.status).toBe(401);
    expect(badToken.allowOrigin).toBeNull();
  });

  it('a confidential client is never called from a browser, whatever the origin', async () => {
    const service = await fromPage(SPA_ORIGIN, `${gh.issuer}/token`, {
      form: { grant_type: 'client_credentials' },
      headers: basic('service', SERVICE_SECRET),
    });
    expect(service.allowOrigin).toBeNull();
    expect(service.body.access_token).toBeUndefined();
  });

  it('introspection is for servers: no browser may call it, not even from the client’s origin', async () => {
    const { tokens } = await signIn(gh.server, gh.issuer, 'cors-user');
    const form = { token: tokens.access_token, client_id: 'spa' };
    const fromSpa = await fromPage(SPA_ORIGIN, `${gh.issuer}/introspect`, { form });
    expect(fromSpa.allowOrigin).toBeNull();
    expect(fromSpa.body.active).toBeUndefined();

    const pre = await preflight(SPA_ORIGIN, `${gh.issuer}/introspect`);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();

    // A server (no Origin) introspects as before.
    const fromServer = await fetch(`${gh.issuer}/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    expect(await fromServer.json()).toMatchObject({ active: true, client_id: 'spa' });
  });

  it('preflights: allowed for the SPA’s origin; a foreign origin’s preflight gets no further than its request', async () => {
    const own = await preflight(SPA_ORIGIN, `${gh.issuer}/token`, 'content-type, dpop');
    expect(own.status).toBe(204);
    expect(own.headers.get('access-control-allow-origin')).toBe(SPA_ORIGIN);
    expect(own.headers.get('access-control-allow-methods')).toBe('POST');
    expect(own.headers.get('access-control-allow-credentials')).toBeNull();

    // A preflight names no client, so it is answered as oidc-provider does (never with
    // credentials); the request it clears is judged once the client is known, as above.
    const foreign = await preflight(FOREIGN_ORIGIN, `${gh.issuer}/token`);
    expect(foreign.headers.get('access-control-allow-credentials')).toBeNull();
    const followUp = await refresh(FOREIGN_ORIGIN, 'any');
    expect(followUp.allowOrigin).toBeNull();
  });

  it('discovery and the JWKS stay readable from any origin (public metadata a browser SDK needs)', async () => {
    for (const path of ['/.well-known/openid-configuration', '/jwks']) {
      const response = await fromPage(FOREIGN_ORIGIN, `${gh.issuer}${path}`);
      expect(response.status).toBe(200);
      expect(response.allowOrigin).toBe(FOREIGN_ORIGIN);
    }
  });
});

describe('the server process', () => {
  it('logs no oidc-provider CORS notice, at start or at CORS requests', async () => {
    const redis = await startRedis();
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-cors-'));
    const clientsFile = join(dir, 'clients.json');
    await writeFile(
      clientsFile,
      JSON.stringify([
        {
          client_id: 'spa',
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
          redirect_uris: [REDIRECT_URI],
          application_type: 'web',
        },
      ]),
    );
    const port = await freePort();
    const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--conditions=@gatehouse/source', main], {
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(port),
        REDIS_URL: redis.url,
        GATEHOUSE_SECRET: 'test-secret-test-secret-test-secret-0123',
        GATEHOUSE_CLIENTS_FILE: clientsFile,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    try {
      const base = `http://localhost:${port}`;
      await expect
        .poll(
          () =>
            fetch(`${base}/readyz`).then(
              (r) => r.status,
              () => 0,
            ),
          { timeout: 15_000 },
        )
        .toBe(200);
      // The requests at which oidc-provider's default CORS function would announce itself.
      for (const origin of [SPA_ORIGIN, FOREIGN_ORIGIN]) {
        await fromPage(origin, `${base}/token`, {
          form: { grant_type: 'refresh_token', refresh_token: 'x', client_id: 'spa' },
        });
      }
      expect(output).toMatch(/gatehouse listening/);
      expect(output).not.toMatch(/oidc-provider (NOTICE|WARNING)/);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
      await rm(dir, { recursive: true, force: true });
      await redis.cleanup();
    }
  });
});
