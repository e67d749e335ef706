import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startRedis, startRedisCluster } from '@gatehouse/testkit';
import { Redis } from 'ioredis';
import { Provider } from 'oidc-provider';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OIDC_SCOPES } from '../oidc-provider/configuration.ts';
import { keySetAt } from '../signing-keys/key-set.ts';
import { RedisKeyRepository } from '../signing-keys/redis-key-repository.ts';
import { ensureSigningKeys } from '../signing-keys/signing-key-lifecycle.ts';
import { createRedisAdapterClass } from '../store/redis-adapter.ts';

const run = promisify(execFile);
const MAIN = join(import.meta.dirname, 'main.ts');
const SECRET = 'cli-test-secret-with-at-least-32-chars';

let redis: Awaited<ReturnType<typeof startRedis>>;
let conn: Redis;
beforeAll(async () => {
  redis = await startRedis();
  conn = new Redis(redis.url);
});
afterAll(async () => {
  conn.disconnect();
  await redis.cleanup();
});
beforeEach(async () => {
  await conn.flushall();
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `gatehouse …` as a real process, as `pnpm gatehouse` does, with only the given environment. */
async function gatehouse(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const environment = { REDIS_URL: redis.url, GATEHOUSE_SECRET: SECRET, ...env };
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--conditions=@gatehouse/source', MAIN, ...args],
      {
        env: Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== '')),
      },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** A failure is exactly one line on stderr, no stack trace, exit 1. */
function expectOneLineError(result: Result, message: string) {
  expect(result.code).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^gatehouse: [^\n]+\n$/);
  expect(result.stderr).toContain(message);
  expect(result.stderr).not.toMatch(/\bat .+:\d+:\d+/);
}

describe('gatehouse clients', () => {
  it('adds a client where oidc-provider finds it, lists it without its secret and removes it', async () => {
    const added = await gatehouse([
      'clients',
      'add',
      '--json',
      JSON.stringify({ client_name: 'Web app', redirect_uris: ['https://app.example/callback'] }),
    ]);
    expect(added).toMatchObject({ code: 0, stderr: '' });
    const client = JSON.parse(added.stdout);
    expect(client).toMatchObject({ client_name: 'Web app', redirect_uris: ['https://app.example/callback'] });
    expect(typeof client.client_id).toBe('string');
    expect(typeof client.client_secret).toBe('string');

    // Stored through the Redis adapter under model `Client`: what oidc-provider's Client.find reads.
    const Adapter = createRedisAdapterClass(conn, { revokedTTL: 60, accessTokenTTL: 60 });
    expect(await new Adapter('Client').find(client.client_id)).toEqual(client);

    const listed = await gatehouse(['clients', 'list', '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ client_id: client.client_id, client_name: 'Web app' }),
    ]);
    expect(listed.stdout).not.toContain(client.client_secret);
    const table = await gatehouse(['clients', 'list']);
    expect(table.stdout).toContain(client.client_id);

    expect(await gatehouse(['clients', 'remove', client.client_id])).toMatchObject({ code: 0 });
    expect(await new Adapter('Client').find(client.client_id)).toBeUndefined();
    expect(JSON.parse((await gatehouse(['clients', 'list', '--json'])).stdout)).toEqual([]);
    expectOneLineError(
      await gatehouse(['clients', 'remove', client.client_id]),
      `no client "${client.client_id}"`,
    );
  });

  it('refuses bad metadata naming the field, and a taken client_id', async () => {
    expectOneLineError(
      await gatehouse(['clients', 'add', '--json', '{"redirect_uris":["https://a.example/cb#x"]}']),
      'invalid client metadata: redirect_uris[0] must not contain a fragment',
    );
    expectOneLineError(await gatehouse(['clients', 'add', '--json', '{nope']), '--json is not valid JSON');
    // What only the server's oidc-provider configuration knows is checked by oidc-provider itself.
    expectOneLineError(
      await gatehouse([
        'clients',
        'add',
        '--json',
        '{"redirect_uris":["https://a.example/cb"],"scope":"openid nope"}',
      ]),
      'invalid client metadata: scope must only contain Authorization Server supported scope values',
    );
    expectOneLineError(
      await gatehouse([
        'clients',
        'add',
        '--json',
        '{"redirect_uris":["https://a.example/cb"],"id_token_signed_response_alg":"PS256"}',
      ]),
      'invalid client metadata: id_token_signed_response_alg must be',
    );
    expect(JSON.parse((await gatehouse(['clients', 'list', '--json'])).stdout)).toEqual([]);
    const svc = JSON.stringify({ client_id: 'svc', grant_types: ['client_credentials'] });
    expect((await gatehouse(['clients', 'add', '--json', svc])).code).toBe(0);
    expectOneLineError(await gatehouse(['clients', 'add', '--json', svc]), 'client_id "svc" already exists');
  });

  it('stores metadata oidc-provider accepts: its Client.find loads every kind of client', async () => {
    const records = await ensureSigningKeys(new RedisKeyRepository(conn), SECRET);
    const provider = new Provider('http://localhost:4000', {
      adapter: createRedisAdapterClass(conn, { revokedTTL: 60, accessTokenTTL: 60 }),
      jwks: { keys: keySetAt(records, records[0]?.activateAt ?? 0).published },
      // As oidc-provider/configuration.ts sets them.
      clientDefaults: {
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'RS256',
      },
      scopes: [...OIDC_SCOPES],
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        deviceFlow: { enabled: true },
      },
    });
    const kinds = {
      web: { redirect_uris: ['https://app.example/cb'], client_name: 'Web' },
      spa: { token_endpoint_auth_method: 'none', redirect_uris: ['http://localhost:5173/cb'] },
      service: { grant_types: ['client_credentials'], scope: 'openid' },
      device: {
        token_endpoint_auth_method: 'none',
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      },
    };
    for (const [name, metadata] of Object.entries(kinds)) {
      const added = await gatehouse([
        'clients',
        'add',
        '--json',
        JSON.stringify({ client_id: name, ...metadata }),
      ]);
      expect(added.code, added.stderr).toBe(0);
      const client = await provider.Client.find(name);
      expect(client?.clientId, name).toBe(name);
    }
    expect((await provider.Client.find('service'))?.grantTypes).toEqual(['client_credentials']);
    expect((await provider.Client.find('spa'))?.clientAuthMethod).toBe('none');
  });

  it('lists the clients of GATEHOUSE_CLIENTS_FILE beside the stored ones, marked, and will not remove them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-clients-'));
    try {
      const file = join(dir, 'clients.json');
      const fileSecret = 'file-client-secret-0123456789abcdefghij';
      await writeFile(
        file,
        JSON.stringify([
          {
            client_id: 'from-file',
            client_name: 'File app',
            client_secret: fileSecret,
            redirect_uris: ['https://file.example/callback'],
          },
        ]),
      );
      const env = { GATEHOUSE_CLIENTS_FILE: file };

      // Only the file: not "no clients".
      const onlyFile = await gatehouse(['clients', 'list'], env);
      expect(onlyFile.code).toBe(0);
      expect(onlyFile.stdout).toMatch(/^CLIENT_ID\s+SOURCE\s+NAME/);
      expect(onlyFile.stdout).toMatch(/^from-file\s+file\s+File app\s/m);

      const added = await gatehouse(
        [
          'clients',
          'add',
          '--json',
          JSON.stringify({ client_id: 'from-cli', grant_types: ['client_credentials'] }),
        ],
        env,
      );
      expect(added.code, added.stderr).toBe(0);
      const storedSecret = String(JSON.parse(added.stdout).client_secret);

      const table = await gatehouse(['clients', 'list'], env);
      expect(table.stdout).toMatch(/^from-file\s+file\s/m);
      expect(table.stdout).toMatch(/^from-cli\s+redis\s/m);
      const json = await gatehouse(['clients', 'list', '--json'], env);
      expect(JSON.parse(json.stdout)).toEqual([
        expect.objectContaining({ client_id: 'from-file', client_name: 'File app', source: 'file' }),
        expect.objectContaining({ client_id: 'from-cli', source: 'redis' }),
      ]);
      for (const output of [table.stdout, json.stdout]) {
        expect(output).not.toContain(fileSecret);
        expect(output).not.toContain(storedSecret);
      }
      for (const client of JSON.parse(json.stdout)) expect(client).not.toHaveProperty('client_secret');

      expectOneLineError(
        await gatehouse(['clients', 'remove', 'from-file'], env),
        `client "from-file" comes from GATEHOUSE_CLIENTS_FILE (${file}); remove it there`,
      );
      expect(JSON.parse((await gatehouse(['clients', 'list', '--json'], env)).stdout)).toHaveLength(2);

      // Without the file, nothing of it is listed.
      expect(JSON.parse((await gatehouse(['clients', 'list', '--json'])).stdout)).toEqual([
        expect.objectContaining({ client_id: 'from-cli', source: 'redis' }),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says there are no clients only when neither the file nor Redis holds one', async () => {
    const empty = await gatehouse(['clients', 'list']);
    expect(empty).toMatchObject({ code: 0, stderr: '' });
    expect(empty.stdout).toMatch(/^no clients: none in GATEHOUSE_CLIENTS_FILE, none registered/);
  });
});

describe('gatehouse keys', () => {
  it('rotates and lists keys without printing private material', async () => {
    await ensureSigningKeys(new RedisKeyRepository(conn), SECRET);
    const rotated = await gatehouse(['keys', 'rotate'], { JWKS_MAX_AGE: '120' });
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(/^added ES256 key [\w-]{43}: published now, signs from \S+Z\n/);
    expect(rotated.stdout).toMatch(
      /\nadded RS256 key [\w-]{43} \(ID tokens\): published now, signs from \S+Z\n/,
    );
    expect(rotated.stdout).toMatch(/stays published until/);

    const listed = await gatehouse(['keys', 'list', '--json']);
    expect(listed.code).toBe(0);
    const keys = JSON.parse(listed.stdout);
    expect(keys.map((key: { state: string }) => key.state)).toEqual(['active', 'next']);
    for (const key of keys) expect(key.rsaKid).toMatch(/^[\w-]{43}$/);
    // JWKS_MAX_AGE plus the servers' key poll interval (5 s).
    expect(keys[1].activateAt - keys[1].publishAt).toBe(125);
    // ID tokens (1 h) outlive access tokens (15 min): the old key stays until they expire.
    expect(keys[0].retireAt - keys[1].activateAt).toBe(3600);
    expect(listed.stdout).not.toMatch(/"d"|jwk/);
    const table = await gatehouse(['keys', 'list']);
    expect(table.stdout).toMatch(/^KID\s+ALG\s+STATE/);
    // One row per key: each generation's RS256 key under its main key, same state and dates.
    expect(
      table.stdout
        .trim()
        .split('\n')
        .map((row) => row.split(/\s+/).slice(1, 3)),
    ).toEqual([
      ['ALG', 'STATE'],
      ['ES256', 'active'],
      ['RS256', 'active'],
      ['ES256', 'next'],
      ['RS256', 'next'],
    ]);

    const eddsa = await gatehouse(['keys', 'rotate', '--alg', 'EdDSA']);
    expect(eddsa.stdout).toMatch(/^added EdDSA key/);
    expect(eddsa.stdout).toMatch(/note: clients that set id_token_signed_response_alg ES256/);
  });

  it('fails with one line for a wrong secret, a missing secret and no Redis', async () => {
    await ensureSigningKeys(new RedisKeyRepository(conn), SECRET);
    const before = await conn.get('gatehouse:keys');
    expectOneLineError(
      await gatehouse(['keys', 'rotate'], { GATEHOUSE_SECRET: 'another-secret-of-at-least-32-characters' }),
      'GATEHOUSE_SECRET does not decrypt the stored signing keys',
    );
    expect(await conn.get('gatehouse:keys')).toBe(before);
    expectOneLineError(
      await gatehouse(['keys', 'list'], { GATEHOUSE_SECRET: '' }),
      'keys commands need GATEHOUSE_SECRET',
    );
    expectOneLineError(await gatehouse(['keys', 'list'], { REDIS_URL: '' }), 'no Redis configured');
    expectOneLineError(await gatehouse(['clients', 'list'], { REDIS_URL: '' }), 'no Redis configured');
  });
});

describe('gatehouse (other commands)', () => {
  it('prints the effective config with secrets masked', async () => {
    const result = await gatehouse(['config', 'check'], {
      REDIS_URL: `redis://admin:hunter2hunter2@127.0.0.1:${redis.port}`,
      GATEHOUSE_REGISTRATION_TOKEN: 'registration-token-123456',
    });
    expect(result.code).toBe(0);
    const config = JSON.parse(result.stdout);
    expect(config).toMatchObject({ secret: '********', registrationToken: '********', accessTokenTTL: 900 });
    expect(result.stdout).not.toContain(SECRET);
    expect(result.stdout).not.toContain('hunter2');
    expect(result.stdout).not.toContain('registration-token-123456');
  });

  it('reports configuration errors, unknown commands and bad users commands in one line', async () => {
    expectOneLineError(
      await gatehouse(['config', 'check'], { ACCESS_TOKEN_TTL: 'soon' }),
      'ACCESS_TOKEN_TTL must be',
    );
    expectOneLineError(await gatehouse(['frobnicate']), 'unknown command "frobnicate"');
    expectOneLineError(await gatehouse(['keys', 'list', '--verbose']), "Unknown option '--verbose'");
    expectOneLineError(
      await gatehouse(['users', 'add', '--email', 'a@example.com', '--password', 'x']),
      'users add: ',
    );
    expectOneLineError(await gatehouse(['users', 'disable', 'nobody@example.com']), 'users disable: ');
    expectOneLineError(
      await gatehouse(['users', 'add', '--password', 'long-enough-password']),
      '--email is required',
    );
    const help = await gatehouse(['help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toContain('clients add --json');
  });

  it('says in one line when Redis does not answer', async () => {
    const stopped = await startRedis();
    await stopped.cleanup();
    expectOneLineError(
      await gatehouse(['clients', 'list'], { REDIS_URL: stopped.url }),
      `cannot reach Redis at redis://127.0.0.1:${stopped.port}`,
    );
  });
});

describe('gatehouse on a Redis Cluster', () => {
  it('adds, lists and removes clients and rotates keys through REDIS_CLUSTER_NODES', async () => {
    const cluster = await startRedisCluster(3);
    try {
      const env = { REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.seeds };
      const added = await gatehouse(
        ['clients', 'add', '--json', '{"client_id":"svc","grant_types":["client_credentials"]}'],
        env,
      );
      expect(added.code).toBe(0);
      expect(JSON.parse((await gatehouse(['clients', 'list', '--json'], env)).stdout)).toEqual([
        expect.objectContaining({ client_id: 'svc' }),
      ]);
      expect((await gatehouse(['clients', 'remove', 'svc'], env)).code).toBe(0);
      expect((await gatehouse(['keys', 'rotate'], env)).code).toBe(0);
      expect(JSON.parse((await gatehouse(['keys', 'list', '--json'], env)).stdout)).toHaveLength(1);
    } finally {
      await cluster.cleanup();
    }
  });
});
