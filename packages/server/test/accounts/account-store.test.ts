import {
  type RedisClusterProcess,
  type RedisProcess,
  startRedis,
  startRedisCluster,
} from '@gatehouse/testkit';
import { parseOptions } from '@node-rs/argon2';
import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { emailKeyOf } from '../../src/accounts/email-digest.ts';
import {
  AccountError,
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

afterEach(() => {
  vi.useRealTimers();
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
const uniqueEmail = (label: string) => `${label}.${Date.now()}.${counter++}@Example.com`;

describe.each(backends)('account store on $name', (backend) => {
  it('creates an account and finds it by id and by email in any case', async () => {
    const accounts = backend.store();
    const email = uniqueEmail('Ada');
    const created = await accounts.create({ email, password: PASSWORD, name: 'Ada Lovelace' });
    expect(created).toMatchObject({ email, emailVerified: false, name: 'Ada Lovelace', disabled: false });
    expect(await accounts.findById(created.id)).toEqual(created);
    expect(await accounts.findByEmail(email.toUpperCase())).toEqual(created);
    expect(await accounts.findByEmail(`  ${email.toLowerCase()} `)).toEqual(created);
    expect(await accounts.findById('no-such-id')).toBeUndefined();
  });

  it('refuses a second account for the same email, whatever its case', async () => {
    const accounts = backend.store();
    const email = uniqueEmail('dup');
    await accounts.create({ email, password: PASSWORD });
    await expect(accounts.create({ email: email.toUpperCase(), password: PASSWORD })).rejects.toMatchObject({
      code: 'email_taken',
    });
  });

  it('lets exactly one of many concurrent sign-ups with one email win', async () => {
    const accounts = backend.store();
    const email = uniqueEmail('race');
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => accounts.create({ email, password: PASSWORD })),
    );
    const winners = results.filter((r) => r.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    const winner = (winners[0] as PromiseFulfilledResult<{ id: string }>).value;
    expect((await accounts.findByEmail(email))?.id).toBe(winner.id);
  });

  it('checks password length on the server with a clear message', async () => {
    const accounts = backend.store();
    await expect(accounts.create({ email: uniqueEmail('short'), password: 'elevenchars' })).rejects.toThrow(
      'Use at least 12 characters.',
    );
    await expect(accounts.create({ email: uniqueEmail('long'), password: 'x'.repeat(257) })).rejects.toThrow(
      'Use at most 256 characters.',
    );
    await expect(accounts.create({ email: 'not an email', password: PASSWORD })).rejects.toBeInstanceOf(
      AccountError,
    );
  });

  it('verifies passwords and refuses unknown emails and disabled accounts', async () => {
    const accounts = backend.store();
    const email = uniqueEmail('login');
    await accounts.create({ email, password: PASSWORD });
    expect(await accounts.verifyPassword(email.toLowerCase(), PASSWORD)).toMatchObject({ ok: true });
    expect(await accounts.verifyPassword(email, `${PASSWORD}!`)).toEqual({
      ok: false,
      reason: 'invalid_credentials',
    });
    expect(await accounts.verifyPassword(uniqueEmail('nobody'), PASSWORD)).toEqual({
      ok: false,
      reason: 'invalid_credentials',
    });
    await accounts.setDisabled(email, true);
    expect(await accounts.verifyPassword(email, PASSWORD)).toEqual({ ok: false, reason: 'disabled' });
    await accounts.setDisabled(email, false);
    expect(await accounts.verifyPassword(email, PASSWORD)).toMatchObject({ ok: true });
  });

  it('stores argon2id at the OWASP parameters and rehashes older hashes on sign-in', async () => {
    if (!backend.raw) return;
    const accounts = backend.store();
    const email = uniqueEmail('rehash');
    await accounts.create({ email, password: PASSWORD });
    const key = accountKey(emailKeyOf(email));
    const stored = (await backend.raw().hget(key, 'passwordHash')) ?? '';
    expect(stored.startsWith('$argon2id$')).toBe(true);
    expect(parseOptions(stored)).toMatchObject({ memoryCost: 19_456, timeCost: 2, parallelism: 1 });

    const weak = await hashPassword(PASSWORD, {
      ...PASSWORD_HASH_PARAMETERS,
      memoryCost: 8_192,
      timeCost: 1,
    });
    await backend.raw().hset(key, 'passwordHash', weak);
    expect(await accounts.verifyPassword(email, PASSWORD)).toMatchObject({ ok: true });
    const rehashed = (await backend.raw().hget(key, 'passwordHash')) ?? '';
    expect(parseOptions(rehashed)).toMatchObject({ memoryCost: 19_456, timeCost: 2 });
    expect(await accounts.verifyPassword(email, PASSWORD)).toMatchObject({ ok: true });
  });

  it('changes the password and marks the email verified', async () => {
    const accounts = backend.store();
    const email = uniqueEmail('change');
    await accounts.create({ email, password: PASSWORD });
    await accounts.setPassword(email, 'a brand new passphrase');
    expect(await accounts.verifyPassword(email, PASSWORD)).toMatchObject({ ok: false });
    expect(await accounts.verifyPassword(email, 'a brand new passphrase')).toMatchObject({ ok: true });
    expect((await accounts.markEmailVerified(email)).emailVerified).toBe(true);
    await expect(accounts.setPassword(email, 'short')).rejects.toMatchObject({ code: 'weak_password' });
    await expect(accounts.markEmailVerified(uniqueEmail('ghost'))).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('gives oidc-provider the claims, and nothing for disabled or revoked accounts', async () => {
    const accounts = backend.store();
    const email = uniqueEmail('claims');
    const account = await accounts.create({ email, password: PASSWORD, name: 'Grace', emailVerified: true });
    const found = await accounts.findAccount(undefined, account.id);
    expect(await found?.claims('id_token', 'openid email profile', {}, [])).toEqual({
      sub: account.id,
      email,
      email_verified: true,
      name: 'Grace',
    });
    const issuedBefore = { iat: Math.floor(Date.now() / 1000) - 10 };
    expect(await accounts.findAccount(undefined, account.id, issuedBefore)).toBeDefined();

    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    await accounts.revokeSessions(email);
    expect(await accounts.findAccount(undefined, account.id, issuedBefore)).toBeUndefined();
    vi.setSystemTime(Date.now() + 5_000);
    expect(
      await accounts.findAccount(undefined, account.id, { iat: Math.floor(Date.now() / 1000) }),
    ).toBeDefined();

    await accounts.setDisabled(email, true);
    expect(await accounts.findAccount(undefined, account.id)).toBeUndefined();
  });

  it('issues single-use email tokens that expire, stored only as hashes', async () => {
    const accounts = backend.store();
    const account = await accounts.create({ email: uniqueEmail('token'), password: PASSWORD });
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const reset = await accounts.issueEmailToken('reset-password', account.id);
    if (backend.raw) {
      const keys = await Promise.all([backend.raw().exists(`gatehouse:account:token:{${reset}}`)]);
      expect(keys).toEqual([0]);
    }
    expect(await accounts.peekEmailToken('verify-email', reset)).toBeUndefined();
    expect((await accounts.peekEmailToken('reset-password', reset))?.id).toBe(account.id);
    expect((await accounts.consumeEmailToken('reset-password', reset))?.id).toBe(account.id);
    expect(await accounts.consumeEmailToken('reset-password', reset)).toBeUndefined();

    const late = await accounts.issueEmailToken('reset-password', account.id);
    vi.setSystemTime(Date.now() + 60 * 60 * 1000 + 1);
    expect(await accounts.consumeEmailToken('reset-password', late)).toBeUndefined();

    const verify = await accounts.issueEmailToken('verify-email', account.id);
    vi.setSystemTime(Date.now() + 23 * 60 * 60 * 1000);
    expect((await accounts.consumeEmailToken('verify-email', verify))?.id).toBe(account.id);
  });

  it('keeps an index of the grants an account consented to', async () => {
    const accounts = backend.store();
    const account = await accounts.create({ email: uniqueEmail('grants'), password: PASSWORD });
    await accounts.addGrant(account.id, 'grant-1', 'client-a');
    await accounts.addGrant(account.id, 'grant-2', 'client-b');
    expect(await accounts.grantIdForClient(account.id, 'client-b')).toBe('grant-2');
    expect((await accounts.grantIds(account.id)).sort()).toEqual(['grant-1', 'grant-2']);
    await accounts.forgetGrants(account.id, ['grant-1']);
    expect(await accounts.grantIds(account.id)).toEqual(['grant-2']);
    expect(await accounts.grantIdForClient(account.id, 'client-a')).toBeUndefined();
  });
});

// The store remembers where an account's record lives (id → email key) and reads the record
// itself every time; what another instance changes, or a record that goes, shows at once.
describe.each(backends.filter((b) => b.raw))('account lookups by id on $name', (backend) => {
  it('answer what another instance changed since, with no restart', async () => {
    const here = backend.store();
    const elsewhere = backend.store();
    const email = uniqueEmail('memo');
    const account = await here.create({ email, password: PASSWORD });
    expect(await here.findAccount(undefined, account.id)).toBeDefined();

    const issuedBefore = { iat: Math.floor(Date.now() / 1000) - 10 };
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    await elsewhere.revokeSessions(email);
    expect(await here.findAccount(undefined, account.id, issuedBefore)).toBeUndefined();
    vi.useRealTimers();
    await elsewhere.setDisabled(email, true);
    expect(await here.findAccount(undefined, account.id)).toBeUndefined();
    expect((await here.findById(account.id))?.disabled).toBe(true);
  });

  it('find nothing once the record is gone, nor another account that takes its email', async () => {
    const here = backend.store();
    const email = uniqueEmail('gone');
    const first = await here.create({ email, password: PASSWORD });
    expect((await here.verifyPassword(email, PASSWORD)).ok).toBe(true);
    expect(await here.findAccount(undefined, first.id)).toBeDefined();

    // No command deletes an account today; an operator may, by hand.
    await backend.raw?.().del(accountKey(emailKeyOf(email)));
    expect(await here.findById(first.id)).toBeUndefined();
    expect(await here.findAccount(undefined, first.id)).toBeUndefined();

    const second = await backend.store().create({ email, password: PASSWORD });
    expect(await here.findAccount(undefined, first.id)).toBeUndefined();
    expect(await here.findById(first.id)).toBeUndefined();
    expect((await here.findById(second.id))?.id).toBe(second.id);
  });
});

describe('account lookups by id on a standalone Redis', () => {
  const reads = async () => {
    const stats = await redisConn.info('commandstats');
    const calls = (name: string) =>
      Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
    return { get: calls('get'), hgetall: calls('hgetall') };
  };

  it('read only the account record once a sign-in has shown where it lives', async () => {
    const accounts = createAccountStore({ kind: 'redis', conn: redisConn });
    const email = uniqueEmail('reads');
    const account = await createAccountStore({ kind: 'redis', conn: redisConn }).create({
      email,
      password: PASSWORD,
    });
    expect((await accounts.verifyPassword(email, PASSWORD)).ok).toBe(true);
    const before = await reads();
    expect(await accounts.findAccount(undefined, account.id)).toBeDefined();
    expect(await accounts.findById(account.id)).toBeDefined();
    const after = await reads();
    expect({ get: after.get - before.get, hgetall: after.hgetall - before.hgetall }).toEqual({
      get: 0,
      hgetall: 2,
    });
  });
});
