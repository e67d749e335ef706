import type { Cluster, Redis } from 'ioredis';
import {
  accountClientGrantKey,
  accountGrantsKey,
  accountIdKey,
  accountKey,
  emailTokenKey,
} from '../store/keys.ts';
import type { StoreBackend } from '../store/store-backend.ts';
import { failingAsUnavailable } from '../store/unavailable-on-failure.ts';

/** The stored fields of an account record, all strings as in a Redis hash. */
export type StoredAccount = Readonly<Record<string, string>>;

/**
 * The storage operations the account store needs. Each one touches a single key, so the
 * Redis implementation is cluster-safe without hash-tag tricks across records.
 */
export interface AccountBackend {
  read(emailKey: string): Promise<StoredAccount | undefined>;
  /** Writes a new record unless one exists for `emailKey`; false when the email is taken. */
  insert(emailKey: string, fields: StoredAccount): Promise<boolean>;
  /** Updates fields of an existing record; false when there is none. */
  update(emailKey: string, fields: StoredAccount): Promise<boolean>;
  /**
   * Compare-and-set: updates `fields` only while the record's `field` still equals `expected`,
   * in one step; false otherwise (or when there is no record).
   */
  updateIf(emailKey: string, field: string, expected: string, fields: StoredAccount): Promise<boolean>;
  emailKeyForId(sub: string): Promise<string | undefined>;
  linkId(sub: string, emailKey: string): Promise<void>;
  unlinkId(sub: string): Promise<void>;
  addGrant(sub: string, grantId: string, clientId: string): Promise<void>;
  grants(sub: string): Promise<string[]>;
  grantForClient(sub: string, clientId: string): Promise<string | undefined>;
  removeGrants(sub: string, grantIds: readonly string[]): Promise<void>;
  putToken(tokenHash: string, value: string, ttlSeconds: number): Promise<void>;
  peekToken(tokenHash: string): Promise<string | undefined>;
  /** Reads and deletes in one step, so a token is used at most once even under concurrency. */
  takeToken(tokenHash: string): Promise<string | undefined>;
}

const INSERT_UNLESS_EXISTS = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`;

const UPDATE_IF_EXISTS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`;

const UPDATE_IF_FIELD_EQUALS = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
return 1`;

// KEYS: the account's grant set, its client → grant hash (one `{<sub>}` slot). ARGV: grant id, client id.
const ADD_GRANT = `
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
return 1`;

function flatten(fields: StoredAccount): string[] {
  return Object.entries(fields).flat();
}

function redisBackend(conn: Redis | Cluster): AccountBackend {
  return {
    async read(emailKey) {
      const fields = await conn.hgetall(accountKey(emailKey));
      return Object.keys(fields).length === 0 ? undefined : fields;
    },
    async insert(emailKey, fields) {
      return (await conn.eval(INSERT_UNLESS_EXISTS, 1, accountKey(emailKey), ...flatten(fields))) === 1;
    },
    async update(emailKey, fields) {
      return (await conn.eval(UPDATE_IF_EXISTS, 1, accountKey(emailKey), ...flatten(fields))) === 1;
    },
    async updateIf(emailKey, field, expected, fields) {
      const reply = await conn.eval(
        UPDATE_IF_FIELD_EQUALS,
        1,
        accountKey(emailKey),
        field,
        expected,
        ...flatten(fields),
      );
      return reply === 1;
    },
    async emailKeyForId(sub) {
      return (await conn.get(accountIdKey(sub))) ?? undefined;
    },
    async linkId(sub, emailKey) {
      await conn.set(accountIdKey(sub), emailKey);
    },
    async unlinkId(sub) {
      await conn.del(accountIdKey(sub));
    },
    async addGrant(sub, grantId, clientId) {
      // Both keys carry the `{<sub>}` tag, so this script stays in one slot on a Cluster. A
      // script rather than MULTI: a single command, so the connection pipelines it with
      // whatever else the request sends in the same tick (the consent page's Grant and result).
      await conn.eval(ADD_GRANT, 2, accountGrantsKey(sub), accountClientGrantKey(sub), grantId, clientId);
    },
    grants(sub) {
      return conn.smembers(accountGrantsKey(sub));
    },
    async grantForClient(sub, clientId) {
      return (await conn.hget(accountClientGrantKey(sub), clientId)) ?? undefined;
    },
    async removeGrants(sub, grantIds) {
      if (grantIds.length === 0) return;
      const byClient = await conn.hgetall(accountClientGrantKey(sub));
      const stale = Object.entries(byClient)
        .filter(([, id]) => grantIds.includes(id))
        .map(([client]) => client);
      const multi = conn.multi().srem(accountGrantsKey(sub), ...grantIds);
      if (stale.length > 0) multi.hdel(accountClientGrantKey(sub), ...stale);
      await multi.exec();
    },
    async putToken(tokenHash, value, ttlSeconds) {
      await conn.set(emailTokenKey(tokenHash), value, 'EX', ttlSeconds);
    },
    async peekToken(tokenHash) {
      return (await conn.get(emailTokenKey(tokenHash))) ?? undefined;
    },
    async takeToken(tokenHash) {
      return (await conn.getdel(emailTokenKey(tokenHash))) ?? undefined;
    },
  };
}

/** The in-process backend: the same semantics, lost on restart (development and tests). */
function memoryBackend(): AccountBackend {
  const records = new Map<string, Record<string, string>>();
  const ids = new Map<string, string>();
  const grantSets = new Map<string, Set<string>>();
  const clientGrants = new Map<string, Map<string, string>>();
  // Expiry of tokens is enforced by the store from the token's own `exp`; nothing to sweep.
  const tokens = new Map<string, string>();
  return {
    async read(emailKey) {
      const record = records.get(emailKey);
      return record === undefined ? undefined : { ...record };
    },
    async insert(emailKey, fields) {
      if (records.has(emailKey)) return false;
      records.set(emailKey, { ...fields });
      return true;
    },
    async update(emailKey, fields) {
      const record = records.get(emailKey);
      if (record === undefined) return false;
      Object.assign(record, fields);
      return true;
    },
    async updateIf(emailKey, field, expected, fields) {
      const record = records.get(emailKey);
      if (record === undefined || record[field] !== expected) return false;
      Object.assign(record, fields);
      return true;
    },
    async emailKeyForId(sub) {
      return ids.get(sub);
    },
    async linkId(sub, emailKey) {
      ids.set(sub, emailKey);
    },
    async unlinkId(sub) {
      ids.delete(sub);
    },
    async addGrant(sub, grantId, clientId) {
      const set = grantSets.get(sub) ?? new Set<string>();
      set.add(grantId);
      grantSets.set(sub, set);
      const byClient = clientGrants.get(sub) ?? new Map<string, string>();
      byClient.set(clientId, grantId);
      clientGrants.set(sub, byClient);
    },
    async grants(sub) {
      return [...(grantSets.get(sub) ?? [])];
    },
    async grantForClient(sub, clientId) {
      return clientGrants.get(sub)?.get(clientId);
    },
    async removeGrants(sub, grantIds) {
      const set = grantSets.get(sub);
      const byClient = clientGrants.get(sub);
      for (const id of grantIds) set?.delete(id);
      for (const [client, id] of byClient ?? []) if (grantIds.includes(id)) byClient?.delete(client);
    },
    async putToken(tokenHash, value) {
      tokens.set(tokenHash, value);
    },
    async peekToken(tokenHash) {
      return tokens.get(tokenHash);
    },
    async takeToken(tokenHash) {
      const value = tokens.get(tokenHash);
      tokens.delete(tokenHash);
      return value;
    },
  };
}

/** The account backend on `backend`; a Redis failure is a `StoreUnavailableError` (503 upstream). */
export function createAccountBackend(backend: StoreBackend): AccountBackend {
  return backend.kind === 'redis' ? failingAsUnavailable(redisBackend(backend.conn)) : memoryBackend();
}
