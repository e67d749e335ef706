import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createDemoApi, type DemoApi } from '@gatehouse/demo-api';
import { redisRevocationSource } from '@gatehouse/resource';
import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { signIn } from '@gatehouse/testkit/sign-in';
import { Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../server/src/cli/main.ts', import.meta.url));
const SECRET = 'test-secret-test-secret-test-secret-0123';
const API = 'http://localhost:4001';
const ACCESS_TOKEN_TTL = 900;
/** The API's own token lifetime, longer than ACCESS_TOKEN_TTL. */
const API_TOKEN_TTL = 7200;

// The attack: an API issues tokens longer-lived than ACCESS_TOKEN_TTL. An operator revokes a user
// with the CLI; once the revocation entry expires (it was sized with ACCESS_TOKEN_TTL), the user's
// still-valid token works again, and an API instance started after that never hears of the revocation.
describe('gatehouse users revoke with an API whose tokens outlive ACCESS_TOKEN_TTL', () => {
  let redis: RedisProcess;
  let gh: StartedGatehouse;
  let resourcesFile: string;
  const connections: Redis[] = [];
  const apis: { api: DemoApi; server: Server }[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    resourcesFile = join(mkdtempSync(join(tmpdir(), 'gatehouse-resources-')), 'resources.json');
    writeFileSync(
      resourcesFile,
      JSON.stringify([
        { uri: API, scopes: ['recipes:read', 'recipes:write'], accessTokenTTL: API_TOKEN_TTL },
      ]),
    );
    gh = await startGatehouse({
      redis,
      env: { GATEHOUSE_RESOURCES_FILE: resourcesFile, ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL) },
    });
  });
  afterAll(async () => {
    for (const { api, server } of apis) {
      api.close();
      server.close();
    }
    for (const conn of connections) conn.disconnect();
    await gh?.stop();
    await redis?.cleanup();
  });

  /** The CLI as an operator runs it, with the same configuration as the server. */
  const gatehouse = async (...args: string[]) => {
    const { stdout } = await run(process.execPath, ['--conditions=@gatehouse/source', CLI, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        REDIS_URL: redis.url,
        GATEHOUSE_SECRET: SECRET,
        GATEHOUSE_RESOURCES_FILE: resourcesFile,
        ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL),
      },
    });
    return stdout.trim();
  };

  const connect = () => {
    const conn = new Redis(redis.url);
    connections.push(conn);
    return conn;
  };

  /** A demo API instance started now, whose clock reads `at`; answers GET /me with `token`. */
  async function apiStartedAt(at: Date) {
    const conn = connect();
    const api = createDemoApi({
      issuer: gh.issuer,
      apiUrl: API,
      redis: conn,
      revocations: redisRevocationSource(conn, { now: () => at }),
      verifier: { now: () => at },
      web: false,
    });
    const server = api.listen(0, '127.0.0.1');
    await once(server, 'listening');
    apis.push({ api, server });
    const { port } = server.address() as AddressInfo;
    return (token: string) =>
      fetch(`http://127.0.0.1:${port}/me`, { headers: { authorization: `Bearer ${token}` } });
  }

  it('keeps the revocation as long as the token lives: a verifier started an hour later still refuses it', async () => {
    const [revoked, bystander] = await Promise.all([
      signIn(gh.server, gh.issuer, 'long-lived'),
      signIn(gh.server, gh.issuer, 'bystander'),
    ]);
    const claims = decodeJwt(revoked.tokens.access_token);
    expect(claims.aud).toBe(API);
    expect(Number(claims.exp) - Number(claims.iat)).toBe(API_TOKEN_TTL);
    // The consent page indexes each grant under its account; this harness consents through
    // oidc-provider's models, so index the grant as that page does.
    await gh.server.accounts.addGrant(revoked.accountId, String(claims.gid), 'spa');

    expect(await gatehouse('users', 'revoke', 'long-lived@example.test')).toMatch(
      /^revoked every session and 1 grant/,
    );
    // The stored revocation lives until the token expires, not ACCESS_TOKEN_TTL after the revocation.
    const score = await connect().zscore('gatehouse:revoked', `grant:${String(claims.gid)}`);
    expect(Number(score)).toBeGreaterThanOrEqual(Number(claims.exp));

    // An API instance started (or restarted) an hour later: past ACCESS_TOKEN_TTL, within the token's life.
    const anHourLater = new Date((Number(claims.iat) + 3600) * 1000);
    const me = await apiStartedAt(anHourLater);
    const refused = await me(revoked.tokens.access_token);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    // The clock alone refuses nothing: a token of the same age that was not revoked still works.
    expect((await me(bystander.tokens.access_token)).status).toBe(200);
  });

  it('keys rotate keeps the superseded key published for the same lifetime', async () => {
    await gatehouse('keys', 'rotate');
    const keys = JSON.parse(await gatehouse('keys', 'list', '--json')) as {
      kid: string;
      state: string;
      activateAt: number;
      retireAt?: number;
    }[];
    const next = keys.find((key) => key.state === 'next');
    const retiring = keys.find((key) => key.state === 'retiring' || key.retireAt !== undefined);
    expect(next).toBeDefined();
    expect(Number(retiring?.retireAt) - Number(next?.activateAt)).toBe(API_TOKEN_TTL);
  });
});
