import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/**
 * Lua scripts of the Redis adapter. Each touches only keys it declares in KEYS, all in one
 * hash slot, so it runs atomically on a standalone Redis and on a Cluster alike.
 */
export interface LuaScript {
  readonly lua: string;
  readonly sha: string;
}

function script(lua: string): LuaScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/**
 * KEYS: grant set, grant tombstone. ARGV: member (the record key without `gatehouse:`), set TTL
 * in seconds (-1: none). Returns 0 when the grant is revoked (the caller must delete the record
 * it wrote), else 1. The set's TTL only grows, so it outlives its longest-lived member. A set
 * without TTL (TTL -1) right after SADD is new (EXPIRE it), otherwise a member without expiry
 * made it persistent on purpose: `EXPIRE … GT` is not used because it treats "no TTL" as infinite.
 */
export const ADMIT_TO_GRANT = script(`
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SADD', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if ttl < 0 then
  redis.call('PERSIST', KEYS[1])
elseif existed == 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
else
  local current = redis.call('TTL', KEYS[1])
  if current >= 0 and current < ttl then redis.call('EXPIRE', KEYS[1], ttl) end
end
return 1
`);

/**
 * Lua helpers for records stored as `<flags><consumed>|<JSON>` (record-encoding.ts): the
 * consumed prefix, and the index fields of the JSON (only decoded when an index is needed).
 */
const RECORD_HELPERS = `
local function consumed_of(v)
  local bar = string.find(v, '|', 1, true)
  return (string.gsub(string.sub(v, 1, bar - 1), '[kj]', ''))
end
local function indexes_of(v)
  local p = cjson.decode(string.sub(v, string.find(v, '|', 1, true) + 1))
  local function text(x) if type(x) == 'string' then return x end return '' end
  return text(p.grantId), text(p.uid), text(p.userCode)
end
`;

/**
 * KEYS: record [, tombstone guarding it (Grant records only)].
 * ARGV: flags, payload JSON, TTL seconds (-1: none), consumed ('' = absent).
 * Replaces the record but keeps an earlier `consumed`: consumption is one-way, a re-save of a
 * copy read before the consume must not make the token redeemable again. A record of an earlier
 * release (a hash) is read for its indexes and replaced (SET overwrites any type).
 * Returns {0} when tombstoned, else {1, old grantId, old uid, old userCode} for index cleanup.
 */
export const UPSERT_RECORD = script(`${RECORD_HELPERS}
if #KEYS > 1 and redis.call('EXISTS', KEYS[2]) == 1 then return {0} end
local old = redis.pcall('GET', KEYS[1])
local consumed, g, u, c = '', '', '', ''
if type(old) == 'table' and old.err then
  local h = redis.call('HMGET', KEYS[1], 'consumed', 'grantId', 'uid', 'userCode')
  consumed, g, u, c = h[1] or '', h[2] or '', h[3] or '', h[4] or ''
elseif old then
  consumed = consumed_of(old)
  g, u, c = indexes_of(old)
end
if consumed == '' then consumed = ARGV[4] end
local value = ARGV[1] .. consumed .. '|' .. ARGV[2]
local ttl = tonumber(ARGV[3])
if ttl >= 0 then redis.call('SET', KEYS[1], value, 'EX', ttl) else redis.call('SET', KEYS[1], value) end
return {1, g, u, c}
`);

/**
 * KEYS: record. ARGV: now (epoch seconds).
 * Atomic check-and-set: {-1} not found, {0, grantId} already consumed, {1} consumed now.
 * The TTL is kept (SET … KEEPTTL); a record of an earlier release (a hash) is consumed in place.
 */
export const CONSUME_RECORD = script(`${RECORD_HELPERS}
local v = redis.pcall('GET', KEYS[1])
if type(v) == 'table' and v.err then
  local state = redis.call('HMGET', KEYS[1], 'consumed', 'grantId')
  if state[1] then return {0, state[2] or ''} end
  redis.call('HSET', KEYS[1], 'consumed', ARGV[1])
  return {1}
end
if not v then return {-1} end
if consumed_of(v) ~= '' then
  local g = indexes_of(v)
  return {0, g}
end
local bar = string.find(v, '|', 1, true)
redis.call('SET', KEYS[1], string.sub(v, 1, bar - 1) .. ARGV[1] .. string.sub(v, bar), 'KEEPTTL')
return {1}
`);

/** KEYS: record. Deletes it; returns {deleted, grantId, uid, userCode} for index cleanup. */
export const DESTROY_RECORD = script(`${RECORD_HELPERS}
local v = redis.pcall('GET', KEYS[1])
local g, u, c = '', '', ''
if type(v) == 'table' and v.err then
  local h = redis.call('HMGET', KEYS[1], 'grantId', 'uid', 'userCode')
  g, u, c = h[1] or '', h[2] or '', h[3] or ''
elseif v then
  g, u, c = indexes_of(v)
end
local deleted = redis.call('DEL', KEYS[1])
return {deleted, g, u, c}
`);

/** KEYS: index. ARGV: id. Deletes the index only while it still points at this id. */
export const DELETE_INDEX_IF_POINTS_TO = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/**
 * KEYS: grant set, the grant set's legacy name, Grant record, tombstone (one slot).
 * ARGV: tombstone TTL seconds.
 * Kills the grant in one step: without its Grant record no member token passes oidc-provider's
 * grant check, and the tombstone stops racing upserts. Members under the legacy name (written
 * before the upgrade) are revoked alike. Returns {fresh, member keys...}; fresh is 1 only for the
 * call that wrote the tombstone, so one revocation publishes once.
 */
export const REVOKE_GRANT = script(`
local members = redis.call('SUNION', KEYS[1], KEYS[2])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
local fresh = redis.call('SET', KEYS[4], '1', 'EX', ARGV[1], 'NX')
table.insert(members, 1, fresh and 1 or 0)
return members
`);

/**
 * KEYS: revoked set. ARGV: now, exp, member, channel, message.
 * Prunes entries that no token can outlive any more, records the revocation, then announces it.
 */
export const RECORD_REVOCATION = script(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`);

/**
 * Runs a script by SHA, loading it on the serving node on first use (NOSCRIPT). `onReload` is
 * told when it had to: the script then ran one round trip later than it was sent, after
 * whatever the caller sent meanwhile on the same connection.
 */
export async function runScript(
  conn: Redis | Cluster,
  { lua, sha }: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
  onReload?: () => void,
): Promise<unknown> {
  try {
    return await conn.evalsha(sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
      onReload?.();
      return conn.eval(lua, keys.length, ...keys, ...args);
    }
    throw err;
  }
}
