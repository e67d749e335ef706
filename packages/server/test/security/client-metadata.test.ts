import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { basic } from '@gatehouse/testkit/clients';
import { postForm } from '@gatehouse/testkit/forms';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CLIENT_SCOPE } from '../../src/clients/client-metadata-policy.ts';
import { readClientsFile } from '../../src/clients/clients-file.ts';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { createGatehouseServer } from '../../src/server.ts';

const REGISTRATION_TOKEN = 'initial-access-token-for-client-metadata-tests';
const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
// The secret startGatehouse uses: both servers share one Redis and its signing keys.
const GATEHOUSE_SECRET = 'test-secret-test-secret-test-secret-0123';

type Metadata = Record<string, unknown>;

/** Metadata every path must refuse: [what it is, metadata, RFC 7591 §3.2.2 error, field named]. */
const REFUSED: readonly [string, Metadata, string, string][] = [
  [
    'a public client with the client_credentials grant',
    { token_endpoint_auth_method: 'none', grant_types: ['client_credentials'], response_types: [] },
    'invalid_client_metadata',
    'grant_types',
  ],
  [
    'a redirect URI on plain http to a remote host',
    { redirect_uris: ['http://attacker.example/callback'] },
    'invalid_redirect_uri',
    'redirect_uris[0]',
  ],
  [
    'a redirect URI on plain http to a private address',
    { redirect_uris: ['https://app.example/cb', 'http://192.168.1.10/cb'] },
    'invalid_redirect_uri',
    'redirect_uris[1]',
  ],
  [
    'a redirect URI on a host that only starts with localhost',
    { redirect_uris: ['http://localhost.attacker.example/cb'] },
    'invalid_redirect_uri',
    'redirect_uris[0]',
  ],
  [
    'a jwks_uri on plain http to a remote host, whose keys anyone on the path could swap',
    {
      redirect_uris: ['https://app.example/cb'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: 'http://keys.attacker.example/jwks.json',
    },
    'invalid_client_metadata',
    'jwks_uri',
  ],
  [
    'a private-use scheme for a web client',
    { redirect_uris: ['com.example.app:/callback'] },
    'invalid_redirect_uri',
    'redirect_uris[0]',
  ],
  [
    'a native private-use scheme that is not reverse-DNS',
    {
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['myapp:/callback'],
    },
    'invalid_redirect_uri',
    'redirect_uris[0]',
  ],
  [
    'a post-logout redirect URI on plain http to a remote host',
    { redirect_uris: ['https://app.example/cb'], post_logout_redirect_uris: ['http://app.example/'] },
    'invalid_client_metadata',
    'post_logout_redirect_uris[0]',
  ],
];

/** Redirect URIs every path accepts (RFC 8252 for native apps; loopback http for development). */
const ACCEPTED: readonly [string, Metadata][] = [
  ['an https web client', { redirect_uris: ['https://app.example/callback'] }],
  [
    'a web client whose keys are on https',
    { redirect_uris: ['https://app.example/callback'], jwks_uri: 'https://app.example/jwks.json' },
  ],
  [
    'a web client on http://localhost (development)',
    { token_endpoint_auth_method: 'none', redirect_uris: ['http://localhost:5173/callback'] },
  ],
  [
    'a native app on a loopback port (RFC 8252 §7.3)',
    {
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1:51004/cb', 'http://[::1]:51004/cb'],
    },
  ],
  [
    'a native app with its reverse-DNS scheme (RFC 8252 §7.1)',
    {
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['com.example.recipes:/oauth/callback'],
    },
  ],
];

/** What an operator writes for the same client: an id, and a secret when it authenticates with one. */
function asConfigured(id: string, metadata: Metadata): Metadata {
  return {
    client_id: id,
    ...(metadata.token_endpoint_auth_method === 'none' ? {} : { client_secret: 'x'.repeat(40) }),
    ...metadata,
  };
}

let redis: RedisProcess;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.cleanup());

describe('RFC 7591 registration with the registration token', () => {
  let gh: StartedGatehouse;
  beforeAll(async () => {
    gh = await startGatehouse({ redis, env: { GATEHOUSE_REGISTRATION_TOKEN: REGISTRATION_TOKEN } });
  });
  afterAll(() => gh?.stop());

  const register = async (metadata: Metadata) => {
    const response = await fetch(`${gh.issuer}/register/client`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${REGISTRATION_TOKEN}` },
      body: JSON.stringify(metadata),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it.each(REFUSED)(
    'refuses %s: 400 with the error and the field named',
    async (_what, metadata, error, field) => {
      const { status, body } = await register(metadata);
      expect(status).toBe(400);
      expect(body.error).toBe(error);
      expect(String(body.error_description).startsWith(`${field} `)).toBe(true);
    },
  );

  it.each(ACCEPTED)('registers %s', async (_what, metadata) => {
    const { status, body } = await register(metadata);
    expect(status).toBe(201);
    expect(body.redirect_uris).toEqual(metadata.redirect_uris);
  });

  it('the attack: a public client_credentials client cannot be registered, so no token without a secret', async () => {
    const conn = new Redis(redis.url);
    const clientKeys = () => conn.keys('gatehouse:Client:*').then((keys) => keys.length);
    try {
      const before = await clientKeys();
      const attempt = await register({
        token_endpoint_auth_method: 'none',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: ['http://attacker.example/cb'],
      });
      expect(attempt.status).toBe(400);
      expect(attempt.body).not.toHaveProperty('client_id');
      expect(await clientKeys()).toBe(before);
      // What the attacker sent next: a token request with a client id and no secret.
      const token = await postForm(`${gh.issuer}/token`, {
        grant_type: 'client_credentials',
        client_id: 'attacker',
        scope: 'recipes:write',
      });
      expect(token.status).toBe(401);
      expect(token.body.error).toBe('invalid_client');
    } finally {
      conn.disconnect();
    }
  });

  it('a client registered without a scope gets the default scope, not the APIs', async () => {
    const { status, body } = await register({
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    });
    expect(status).toBe(201);
    expect(body.scope).toBe(DEFAULT_CLIENT_SCOPE);
    const auth = basic(String(body.client_id), String(body.client_secret));
    const write = await postForm(
      `${gh.issuer}/token`,
      { grant_type: 'client_credentials', scope: 'recipes:write' },
      auth,
    );
    expect(write.status).toBe(400);
    expect(write.body.error).toBe('invalid_scope');
    expect(write.body).not.toHaveProperty('access_token');
  });

  it('a web client registered without a scope may sign in with the scopes OpenID libraries ask for by default, and no API', async () => {
    const { status, body } = await register({ redirect_uris: ['https://rp.example/cb'] });
    expect(status).toBe(201);
    expect(body.scope).toBe('openid profile email');
    const authorize = (scope: string) =>
      fetch(
        `${gh.issuer}/authorize?${new URLSearchParams({
          client_id: String(body.client_id),
          response_type: 'code',
          redirect_uri: 'https://rp.example/cb',
          scope,
          state: 'state-1',
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          code_challenge_method: 'S256',
        })}`,
        { redirect: 'manual' },
      ).then((r) => new URL(String(r.headers.get('location')), gh.issuer));
    expect((await authorize('openid profile email')).pathname).toMatch(/^\/interaction\//);
    const api = await authorize('openid email recipes:read');
    expect(api.origin).toBe('https://rp.example');
    expect(api.searchParams.get('error')).toBe('invalid_scope');
  });

  it('a client registered with an API scope gets that scope and no other', async () => {
    const { body } = await register({
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'recipes:read',
    });
    const auth = basic(String(body.client_id), String(body.client_secret));
    const read = await postForm(
      `${gh.issuer}/token`,
      { grant_type: 'client_credentials', scope: 'recipes:read' },
      auth,
    );
    expect(read.status).toBe(200);
    const write = await postForm(
      `${gh.issuer}/token`,
      { grant_type: 'client_credentials', scope: 'recipes:write' },
      auth,
    );
    expect(write.body.error).toBe('invalid_scope');
  });

  it('never keeps a secret the registrant chose: the server generates a long one', async () => {
    const { status, body } = await register({
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      client_secret: 'short',
    });
    expect(status).toBe(201);
    expect(body.client_secret).not.toBe('short');
    expect(String(body.client_secret).length).toBeGreaterThanOrEqual(32);
  });
});

describe('the same policy for GATEHOUSE_CLIENTS_FILE', () => {
  const start = (clients: Metadata[]) => {
    const path = join(mkdtempSync(join(tmpdir(), 'gatehouse-clients-')), 'clients.json');
    writeFileSync(path, JSON.stringify(clients));
    const config = loadConfig({ NODE_ENV: 'test', REDIS_URL: redis.url, GATEHOUSE_SECRET });
    return createGatehouseServer(config, { clients: readClientsFile(path) });
  };

  it.each([
    ...REFUSED,
    [
      'a client secret shorter than 32 characters',
      { client_secret: 'guessable-secret', redirect_uris: ['https://app.example/cb'] },
      'invalid_client_metadata',
      'client_secret',
    ] as const,
  ])('refuses to start with %s, naming the client and the field', async (_what, metadata, _error, field) => {
    const started = start([asConfigured('bad', metadata)]);
    await expect(started).rejects.toThrow(ConfigError);
    await expect(started).rejects.toThrow(`client "bad": ${field} `);
  });

  it('starts with the accepted clients', async () => {
    const server = await start(ACCEPTED.map(([, metadata], i) => asConfigured(`ok-${i}`, metadata)));
    await server.close();
  });
});

describe('the same policy for gatehouse clients add', () => {
  const run = promisify(execFile);
  const clientsAdd = async (metadata: Metadata) => {
    try {
      const { stdout } = await run(
        process.execPath,
        ['--conditions=@gatehouse/source', CLI, 'clients', 'add', '--json', JSON.stringify(metadata)],
        { env: { PATH: process.env.PATH ?? '', REDIS_URL: redis.url, GATEHOUSE_SECRET } },
      );
      return { code: 0, stdout, stderr: '' };
    } catch (err) {
      return err as { code: number; stdout: string; stderr: string };
    }
  };

  it('refuses each bad metadata with one line naming the field, and stores a client without scope with the default', async () => {
    const rows: [Metadata, string][] = [
      ...REFUSED.map(([, metadata, , field]): [Metadata, string] => [metadata, field]),
      [{ client_secret: 'guessable-secret', redirect_uris: ['https://app.example/cb'] }, 'client_secret'],
    ];
    const [results, added] = await Promise.all([
      Promise.all(rows.map(([metadata]) => clientsAdd(metadata))),
      clientsAdd({ grant_types: ['client_credentials'] }),
    ]);
    results.forEach((result, i) => {
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(`^gatehouse: invalid client metadata: ${escapeRegExp(rows[i]?.[1])} [^\\n]+\\n$`),
      );
    });
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ scope: DEFAULT_CLIENT_SCOPE });
  }, 120_000);
});

function escapeRegExp(text = ''): string {
  return text.replace(/[[\]().*+?^$|\\]/g, '\\$&');
}
