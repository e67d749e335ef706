import { readFileSync } from 'node:fs';
import { startRedis } from '@gatehouse/testkit';
import { Redis } from 'ioredis';
import { createLocalJWKSet, type JWK, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RSA_MODULUS_LENGTH } from './generate-signing-key.ts';
import { decryptKeyRecords, encryptKeyRecords } from './key-encryption.ts';
import type { KeyRepository } from './key-repository.ts';
import { keySetAt } from './key-set.ts';
import { listKeys } from './list-keys.ts';
import { RedisKeyRepository } from './redis-key-repository.ts';
import { SigningKeyError } from './signing-key-error.ts';
import { ensureSigningKeys, lacksRsaKey, loadKeys, rotateSigningKey } from './signing-key-lifecycle.ts';

const secret = 'test-secret-with-at-least-32-characters';
const jwksMaxAge = 300;
const accessTokenTTL = 900;

let redis: Awaited<ReturnType<typeof startRedis>>;
const connections: Redis[] = [];
function connect(): Redis {
  const conn = new Redis(redis.url);
  connections.push(conn);
  return conn;
}

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const conn of connections) conn.disconnect();
  await redis.cleanup();
});
beforeEach(async () => {
  await connect().flushall();
});

/** Lets `parties` loads through only together, so every caller reads "no keys" before anyone writes. */
function loadTogether(
  repo: KeyRepository,
  gate: { waiting: (() => void)[]; parties: number },
): KeyRepository {
  let first = true;
  return {
    load: async () => {
      if (first) {
        first = false;
        await new Promise<void>((resolve) => {
          gate.waiting.push(resolve);
          if (gate.waiting.length === gate.parties) for (const release of gate.waiting) release();
        });
      }
      return repo.load();
    },
    save: (next, expected) => repo.save(next, expected),
  };
}

const publicJwks = (keys: JWK[]) => ({ keys: keys.map(({ d: _private, ...pub }) => pub) });

async function sign(jwk: JWK, iat: number): Promise<string> {
  const { importJWK } = await import('jose');
  return new SignJWT({ sub: 'user-1' })
    .setProtectedHeader({ alg: String(jwk.alg), kid: String(jwk.kid), typ: 'at+jwt' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + accessTokenTTL)
    .sign(await importJWK(jwk));
}

function verifiesAt(token: string, published: JWK[], at: number) {
  return jwtVerify(token, createLocalJWKSet(publicJwks(published)), {
    currentDate: new Date(at * 1000),
  }).then(
    () => true,
    () => false,
  );
}

describe('ensureSigningKeys', () => {
  it('creates one key, active at once, and keeps it on later calls', async () => {
    const repo = new RedisKeyRepository(connect());
    const [first] = await ensureSigningKeys(repo, secret, 1000);
    expect(first).toMatchObject({ alg: 'ES256', publishAt: 1000, activateAt: 1000 });
    expect(first?.jwk).toMatchObject({ kty: 'EC', crv: 'P-256', use: 'sig', alg: 'ES256', kid: first?.kid });
    // OIDC Core §15.1: an RS256 key beside it, for ID tokens of clients on the default.
    expect(first?.rsa?.jwk).toMatchObject({
      kty: 'RSA',
      e: 'AQAB',
      use: 'sig',
      alg: 'RS256',
      kid: first?.rsa?.kid,
    });
    expect(Buffer.from(String(first?.rsa?.jwk.n), 'base64url')).toHaveLength(RSA_MODULUS_LENGTH / 8);
    expect(await ensureSigningKeys(repo, secret, 2000)).toEqual([first]);
    expect(await loadKeys(repo, secret)).toEqual([first]);
  });

  it('creates exactly one key when instances start at the same moment', async () => {
    const gate = { waiting: [] as (() => void)[], parties: 4 };
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        ensureSigningKeys(loadTogether(new RedisKeyRepository(connect()), gate), secret, 1000),
      ),
    );
    const stored = await loadKeys(new RedisKeyRepository(connect()), secret);
    expect(stored).toHaveLength(1);
    for (const records of results) expect(records).toEqual(stored);
  });

  it('refuses a wrong secret and leaves the stored keys untouched', async () => {
    const repo = new RedisKeyRepository(connect());
    await ensureSigningKeys(repo, secret, 1000);
    const before = await repo.load();
    const attempt = ensureSigningKeys(repo, 'a-different-secret-of-32-characters!!', 2000);
    await expect(attempt).rejects.toThrow('GATEHOUSE_SECRET does not decrypt the stored signing keys');
    await expect(attempt).rejects.toBeInstanceOf(SigningKeyError);
    expect(await repo.load()).toBe(before);
  });

  it('supports EdDSA (Ed25519) keys', async () => {
    const [key] = await ensureSigningKeys(new RedisKeyRepository(connect()), secret, 1000, 'EdDSA');
    expect(key?.jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
  });
});

/** `gatehouse:keys` as the release before RS256 keys wrote it (see the fixture's note). */
const withoutRsa = JSON.parse(
  readFileSync(new URL('../../test/fixtures/signing-keys-without-rsa.json', import.meta.url), 'utf8'),
) as { secret: string; stored: string };
const FIXTURE_ROTATED_AT = 1_700_001_000;

describe('ensureSigningKeys on keys stored without RS256 keys', () => {
  it('reads them, and adds an RS256 key to the generations that still sign, exactly once across instances', async () => {
    const conn = connect();
    await conn.set('gatehouse:keys', withoutRsa.stored);
    const before = decryptKeyRecords(withoutRsa.stored, withoutRsa.secret);
    expect(before.map((record) => record.rsa)).toEqual([undefined, undefined]);
    // Between the fixture's rotation and its activation: one generation active, one pending.
    const now = FIXTURE_ROTATED_AT + 10;
    expect(lacksRsaKey(before, now)).toBe(true);

    const gate = { waiting: [] as (() => void)[], parties: 4 };
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        ensureSigningKeys(loadTogether(new RedisKeyRepository(connect()), gate), withoutRsa.secret, now),
      ),
    );
    const stored = await loadKeys(new RedisKeyRepository(conn), withoutRsa.secret);
    for (const records of results) expect(records).toEqual(stored);
    // The keys and their dates are kept; each generation gains its own RS256 key.
    expect(stored.map(({ rsa: _rsa, ...rest }) => rest)).toEqual(before);
    expect(new Set(stored.map((record) => record.rsa?.kid)).size).toBe(2);
    for (const record of stored)
      expect(record.rsa?.jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(lacksRsaKey(stored, now)).toBe(false);

    const set = keySetAt(stored, now);
    expect(set.rsaSigning?.kid).toBe(stored[0]?.rsa?.kid);
    expect(set.published.map((jwk) => jwk.alg)).toEqual(['ES256', 'RS256', 'ES256', 'RS256']);
    // Written once: later starts change nothing.
    const written = await conn.get('gatehouse:keys');
    await ensureSigningKeys(new RedisKeyRepository(conn), withoutRsa.secret, now + 1);
    expect(await conn.get('gatehouse:keys')).toBe(written);
  });

  it('leaves a superseded generation without one: it signed no RS256 token to verify', async () => {
    const repo = new RedisKeyRepository(connect());
    await repo.save(withoutRsa.stored, null);
    const [superseded, active] = await ensureSigningKeys(repo, withoutRsa.secret, FIXTURE_ROTATED_AT + 400);
    expect(superseded?.rsa).toBeUndefined();
    expect(active?.rsa?.jwk).toMatchObject({ alg: 'RS256' });
  });

  it('is undone by a release without RS256 keys rotating, and added back by the next call', async () => {
    const repo = new RedisKeyRepository(connect());
    await ensureSigningKeys(repo, secret, 1000);
    await rotateSigningKey(repo, secret, { now: 2000, jwksMaxAge, accessTokenTTL });
    // What that release writes back: the records it read, the field it does not know dropped.
    const dropped = (await loadKeys(repo, secret)).map(({ rsa: _rsa, ...rest }) => rest);
    await repo.save(encryptKeyRecords(dropped, secret), await repo.load());
    const restored = await ensureSigningKeys(repo, secret, 2001);
    expect(restored.map((record) => record.rsa === undefined)).toEqual([false, false]);
  });
});

describe('rotateSigningKey', () => {
  const t0 = 1_000_000;
  const rotatedAt = t0 + 1000;

  it('pre-publishes the new key, switches at activateAt and unpublishes the old key at retireAt', async () => {
    const repo = new RedisKeyRepository(connect());
    const [old] = await ensureSigningKeys(repo, secret, t0);
    const { added, records } = await rotateSigningKey(repo, secret, {
      now: rotatedAt,
      jwksMaxAge,
      accessTokenTTL,
    });
    const oldKid = old?.kid;
    const [oldRsa, addedRsa] = [old?.rsa?.kid, added.rsa?.kid];

    expect(added).toMatchObject({ alg: 'ES256', publishAt: rotatedAt, activateAt: rotatedAt + jwksMaxAge });
    expect(records.find((r) => r.kid === oldKid)?.retireAt).toBe(rotatedAt + jwksMaxAge + accessTokenTTL);
    expect(await loadKeys(repo, secret)).toEqual(records);

    const at = (now: number) => {
      const set = keySetAt(records, now);
      return {
        signing: [set.signing.kid, set.rsaSigning?.kid],
        published: set.published.map((k) => k.kid),
        next: set.nextChangeAt,
      };
    };
    // The RS256 key of each generation follows it through the same dates.
    expect(at(rotatedAt)).toEqual({
      signing: [oldKid, oldRsa],
      published: [oldKid, oldRsa, added.kid, addedRsa],
      next: added.activateAt,
    });
    expect(at(added.activateAt - 1).signing).toEqual([oldKid, oldRsa]);
    expect(at(added.activateAt)).toEqual({
      signing: [added.kid, addedRsa],
      published: [added.kid, addedRsa, oldKid, oldRsa],
      next: added.activateAt + accessTokenTTL,
    });
    expect(at(added.activateAt + accessTokenTTL - 1).published).toEqual([
      added.kid,
      addedRsa,
      oldKid,
      oldRsa,
    ]);
    expect(at(added.activateAt + accessTokenTTL)).toEqual({
      signing: [added.kid, addedRsa],
      published: [added.kid, addedRsa],
      next: undefined,
    });

    expect(await listKeys(repo, secret, rotatedAt)).toEqual([
      expect.objectContaining({ kid: oldKid, rsaKid: oldRsa, state: 'active' }),
      expect.objectContaining({ kid: added.kid, rsaKid: addedRsa, state: 'next' }),
    ]);
    expect((await listKeys(repo, secret, added.activateAt)).map((k) => k.state)).toEqual([
      'retiring',
      'active',
    ]);
    for (const summary of await listKeys(repo, secret, rotatedAt)) expect(summary).not.toHaveProperty('jwk');

    // The next rotation after retireAt prunes the old key from storage.
    const later = await rotateSigningKey(repo, secret, {
      now: added.activateAt + accessTokenTTL,
      jwksMaxAge,
      accessTokenTTL,
    });
    expect(later.records.map((r) => r.kid)).toEqual([added.kid, later.added.kid]);
  });

  it('rejects no token across a rotation: every token verifies until it expires, even from a cached JWKS', async () => {
    const repo = new RedisKeyRepository(connect());
    await ensureSigningKeys(repo, secret, t0);
    const { records } = await rotateSigningKey(repo, secret, { now: rotatedAt, jwksMaxAge, accessTokenTTL });
    const end = rotatedAt + jwksMaxAge + 2 * accessTokenTTL;
    const step = 50;
    const failures: string[] = [];
    for (let issuedAt = t0; issuedAt <= end; issuedAt += step) {
      // A token signed with whatever key signs at that moment (ES256 or RS256)...
      const { signing, rsaSigning } = keySetAt(records, issuedAt);
      const token = await sign(issuedAt % 100 === 0 || !rsaSigning ? signing : rsaSigning, issuedAt);
      for (let checkedAt = issuedAt; checkedAt < issuedAt + accessTokenTTL; checkedAt += step) {
        // ...verifies against the JWKS served at any moment until it expires,
        if (!(await verifiesAt(token, keySetAt(records, checkedAt).published, checkedAt))) {
          failures.push(`issued ${issuedAt - rotatedAt}, checked ${checkedAt - rotatedAt} (fresh JWKS)`);
        }
        // ...and against a JWKS a verifier fetched up to jwksMaxAge before it was issued.
        const fetchedAt = Math.max(t0, issuedAt - jwksMaxAge + 1);
        if (!(await verifiesAt(token, keySetAt(records, fetchedAt).published, issuedAt))) {
          failures.push(`issued ${issuedAt - rotatedAt}, JWKS cached at ${fetchedAt - rotatedAt}`);
        }
      }
      // And stops verifying once expired, key retired or not.
      expect(
        await verifiesAt(token, keySetAt(records, issuedAt).published, issuedAt + accessTokenTTL + 1),
      ).toBe(false);
    }
    expect(failures).toEqual([]);
  });

  it('keeps the algorithm of the active key and retires a still-pending key too', async () => {
    const repo = new RedisKeyRepository(connect());
    await ensureSigningKeys(repo, secret, t0, 'EdDSA');
    const first = await rotateSigningKey(repo, secret, { now: rotatedAt, jwksMaxAge, accessTokenTTL });
    expect(first.added.alg).toBe('EdDSA');
    // A second rotation while the first is pending: the pending key signs until the newer one takes over.
    const second = await rotateSigningKey(repo, secret, { now: rotatedAt + 10, jwksMaxAge, accessTokenTTL });
    const pending = second.records.find((r) => r.kid === first.added.kid);
    expect(pending?.retireAt).toBe(second.added.activateAt + accessTokenTTL);
    expect(keySetAt(second.records, first.added.activateAt).signing.kid).toBe(first.added.kid);
    expect(keySetAt(second.records, second.added.activateAt).signing.kid).toBe(second.added.kid);
  });

  it('refuses to rotate with a wrong secret', async () => {
    const repo = new RedisKeyRepository(connect());
    await ensureSigningKeys(repo, secret, t0);
    await expect(
      rotateSigningKey(repo, 'a-different-secret-of-32-characters!!', {
        now: rotatedAt,
        jwksMaxAge,
        accessTokenTTL,
      }),
    ).rejects.toMatchObject({ code: 'wrong_secret' });
  });
});
