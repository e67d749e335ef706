import {
  type RedisClusterProcess,
  type RedisProcess,
  startRedis,
  startRedisCluster,
} from '@gatehouse/testkit';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailKeyOf } from '../../src/accounts/email-digest.ts';
import {
  type AccountStore,
  accountKey,
  createAccountStore,
  PASSWORD_HASH_PARAMETERS,
} from '../../src/accounts/index.ts';
import { hashPassword } from '../../src/accounts/password.ts';

const PASSWORD = 'correct horse battery staple';

type Backend = { name: string; store: () => AccountStore; raw?: () => Redis | Cluster };

let redis: RedisProcess;
let cluster: RedisClusterProcess;
let redisConn: Redis;
let clusterConn: Cluster;

beforeAll(async () => {
  [redis, cluster] = await Promise.all([startRedis(), startRedisCluster(3)]);
  redisConn = new Redis(redis.url);
  clusterConn = new Cluster(cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })));
});

afterAll(async () => {
  redisConn?.disconnect();
  clusterConn?.disconnect();
  await Promise.all([redis?.cleanup(), cluster?.cleanup()]);
});

const backends: Backend[] = [
  { name: 'memory', store: () => createAccountStore({ kind: 'memory' }) },
  {
    name: 'redis',
    store: () => createAccountStore({ kind: 'redis', conn: redisConn }),
    raw: () => redisConn,
  },
  {
    name: 'redis cluster (3 masters)',
    store: () => createAccountStore({ kind: 'redis', conn: clusterConn }),
    raw: () => clusterConn,
  },
];

let counter = 0;
const uniqueEmail = (label: string) => `${label}.${Date.now()}.${counter++}@example.com`;

describe.each(backends)('reset links and first confirmation on $name', (backend) => {
  it('a reset link works once, sets the password, confirms the address and ends earlier sessions', async () => {
    const accounts = backend.store();
    const email = uniqueEmail('reset');
    const account = await accounts.create({ email, password: PASSWORD });
    const token = await accounts.issueEmailToken('reset-password', account.id);
    const issuedBefore = { iat: Math.floor(Date.now() / 1000) - 1 };
    await expect(accounts.resetPassword(token, 'qwerty123456')).rejects.toMatchObject({
      code: 'weak_password',
    });
    const reset = await accounts.resetPassword(token, 'a new and fine passphrase');
    expect(reset).toMatchObject({ id: account.id, emailVerified: true });
    expect(reset?.sessionsRevokedAt).toBeGreaterThanOrEqual(issuedBefore.iat);
    expect(await accounts.findAccount(undefined, account.id, issuedBefore)).toBeUndefined();
    expect(await accounts.verifyPassword(email, 'a new and fine passphrase')).toMatchObject({ ok: true });
    expect(await accounts.resetPassword(token, 'yet another passphrase')).toBeUndefined();
  });

  it('a password change by any path ends every reset link issued before it', async () => {
    const accounts = backend.store();
    const email = uniqueEmail('bound');
    const account = await accounts.create({ email, password: PASSWORD });
    const [first, second] = await Promise.all([
      accounts.issueEmailToken('reset-password', account.id),
      accounts.issueEmailToken('reset-password', account.id),
    ]);
    await accounts.setPassword(email, 'set by an administrator');
    expect(await accounts.peekEmailToken('reset-password', first)).toBeUndefined();
    expect(await accounts.consumeEmailToken('reset-password', first)).toBeUndefined();
    expect(await accounts.resetPassword(second, 'the link tries this')).toBeUndefined();
    const after = await accounts.issueEmailToken('reset-password', account.id);
    expect((await accounts.peekEmailToken('reset-password', after))?.id).toBe(account.id);
  });

  it('of links used at the same moment, exactly one changes the password', async () => {
    const accounts = backend.store();
    const email = uniqueEmail('burst');
    const account = await accounts.create({ email, password: PASSWORD });
    const tokens = await Promise.all(
      Array.from({ length: 4 }, () => accounts.issueEmailToken('reset-password', account.id)),
    );
    const results = await Promise.all(
      tokens.map((token, i) => accounts.resetPassword(token, `burst password ${i}`)),
    );
    const winners = results.flatMap((result, i) => (result ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(await accounts.verifyPassword(email, `burst password ${winners[0]}`)).toMatchObject({ ok: true });
  });

  it('a rehash on sign-in never undoes a password change that landed meanwhile', async () => {
    if (!backend.raw) return;
    const accounts = backend.store();
    const email = uniqueEmail('rehash');
    await accounts.create({ email, password: PASSWORD });
    const weak = await hashPassword(PASSWORD, {
      ...PASSWORD_HASH_PARAMETERS,
      memoryCost: 8_192,
      timeCost: 1,
    });
    await backend.raw().hset(accountKey(emailKeyOf(email)), 'passwordHash', weak);
    await Promise.all([
      accounts.verifyPassword(email, PASSWORD),
      accounts.setPassword(email, 'changed meanwhile'),
    ]);
    expect(await accounts.verifyPassword(email, 'changed meanwhile')).toMatchObject({ ok: true });
    expect(await accounts.verifyPassword(email, PASSWORD)).toMatchObject({ ok: false });
  });

  it('only the first confirmation of the address ends the sessions issued before it', async () => {
    const accounts = backend.store();
    const email = uniqueEmail('confirm');
    const account = await accounts.create({ email, password: PASSWORD });
    const before = { iat: Math.floor(Date.now() / 1000) - 1 };
    const confirmed = await accounts.markEmailVerified(email);
    expect(confirmed).toMatchObject({ emailVerified: true });
    expect(await accounts.findAccount(undefined, account.id, before)).toBeUndefined();

    const verified = await accounts.create({
      email: uniqueEmail('verified'),
      password: PASSWORD,
      emailVerified: true,
    });
    const again = await accounts.markEmailVerified(verified.email);
    expect(again.sessionsRevokedAt).toBeUndefined();
    expect(await accounts.findAccount(undefined, verified.id, before)).toBeDefined();
  });
});
