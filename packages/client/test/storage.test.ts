import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryStorage, type TokenStorage } from '../src/index.ts';
import { createGatehouseClient, fileStorage } from '../src/node/index.ts';
import { type AuthServer, startAuthServer } from './support/auth-server.ts';
import { TestClock } from './support/test-clock.ts';

let server: AuthServer;
let dir: string;
beforeAll(async () => {
  server = await startAuthServer();
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-client-'));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const prefix = () => `gatehouse:${server.issuer}:test-cli`;

describe('fileStorage', () => {
  it('writes the token file with mode 0600 and reads it back', async () => {
    const path = join(dir, 'nested', 'tokens.json');
    const storage = fileStorage(path);
    await storage.set('k', 'v');
    await storage.set('k2', 'v2');
    await storage.remove('k2');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'nested'))).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ k: 'v' });
    expect(await fileStorage(path).get('k')).toBe('v');
  });

  it('keeps every one of many concurrent writes', async () => {
    const storage = fileStorage(join(dir, 'concurrent.json'));
    await Promise.all(Array.from({ length: 20 }, (_, i) => storage.set(`key${i}`, String(i))));
    for (let i = 0; i < 20; i++) expect(await storage.get(`key${i}`)).toBe(String(i));
  });

  it('persists a device sign-in across client instances', async () => {
    const path = join(dir, 'cli.json');
    const clock = new TestClock();
    const options = {
      issuer: server.issuer,
      clientId: server.clients.cli.clientId,
      scope: 'openid recipes:read',
      storage: fileStorage(path),
      clock,
      autoRefresh: false,
    };
    const first = createGatehouseClient(options);
    const tokens = await first.signInWithDeviceCode({
      onUserCode: ({ userCode }) => server.approveDevice(userCode),
    });
    first.close();
    const second = createGatehouseClient({ ...options, storage: fileStorage(path) });
    expect(await second.getAccessToken()).toBe(tokens.accessToken);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    second.close();
  });

  it('treats a corrupted token file as signed out', async () => {
    const path = join(dir, 'corrupt.json');
    await writeFile(path, '{not json', { mode: 0o600 });
    const auth = createGatehouseClient({
      issuer: server.issuer,
      clientId: 'test-cli',
      storage: fileStorage(path),
    });
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'ERR_INTERACTION_REQUIRED' });
    auth.close();
  });
});

describe('stale or garbage storage', () => {
  const garbage: [string, string | undefined, string | undefined][] = [
    ['not JSON', '{{{', 'nope'],
    ['JSON of the wrong shape', '[1,2,3]', '"string"'],
    ['wrong field types', '{"accessToken":42,"expiresAt":"soon"}', '{"refreshToken":{}}'],
    ['an access token without expiry or refresh token', '{"accessToken":"x"}', undefined],
  ];

  it.each(garbage)('does not make createGatehouseClient throw: %s', async (_label, access, session) => {
    const storage = memoryStorage();
    if (access !== undefined) await storage.set(`${prefix()}:access`, access);
    if (session !== undefined) await storage.set(`${prefix()}:session`, session);
    const auth = createGatehouseClient({ issuer: server.issuer, clientId: 'test-cli', storage });
    const outcome = await auth.getAccessToken().then(
      (token) => ({ token }),
      (error: unknown) => ({ error }),
    );
    if ('error' in outcome) expect(outcome.error).toMatchObject({ code: 'ERR_INTERACTION_REQUIRED' });
    auth.close();
  });

  it('does not throw at creation for a storage whose reads fail', async () => {
    const broken: TokenStorage = {
      get: () => Promise.reject(new Error('disk on fire')),
      set: () => Promise.reject(new Error('disk on fire')),
      remove: () => Promise.reject(new Error('disk on fire')),
    };
    const auth = createGatehouseClient({ issuer: server.issuer, clientId: 'test-cli', storage: broken });
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'ERR_INTERACTION_REQUIRED' });
    auth.close();
  });

  it('an expired access token with a dead refresh token fails on use with SessionExpiredError, not at start', async () => {
    const storage = memoryStorage();
    await storage.set(`${prefix()}:access`, JSON.stringify({ accessToken: 'old', expiresAt: 1 }));
    await storage.set(`${prefix()}:session`, JSON.stringify({ refreshToken: 'revoked-long-ago' }));
    const auth = createGatehouseClient({
      issuer: server.issuer,
      clientId: 'test-cli',
      storage,
      autoRefresh: false,
    });
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'ERR_SESSION_EXPIRED' });
    expect(await storage.get(`${prefix()}:session`)).toBeUndefined();
    auth.close();
  });

  it('refreshes at start, in the background, when the stored access token is already expired', async () => {
    const storage = memoryStorage();
    const seed = createGatehouseClient({
      issuer: server.issuer,
      clientId: 'test-cli',
      scope: 'openid',
      storage,
      autoRefresh: false,
      clock: new TestClock(),
    });
    const tokens = await seed.signInWithDeviceCode({
      onUserCode: ({ userCode }) => server.approveDevice(userCode),
    });
    seed.close();
    await storage.set(
      `${prefix()}:access`,
      JSON.stringify({ accessToken: tokens.accessToken, expiresAt: 1 }),
    );

    const auth = createGatehouseClient({ issuer: server.issuer, clientId: 'test-cli', storage });
    const changed = await new Promise((resolve) => auth.on('tokensChanged', resolve));
    expect(changed).toMatchObject({ refreshToken: expect.any(String) });
    expect((changed as { accessToken: string }).accessToken).not.toBe(tokens.accessToken);
    auth.close();
  });
});
