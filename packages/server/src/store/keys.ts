/**
 * Every Redis key Gatehouse writes is named here, so that what lives in Redis can be read off
 * one table. Every key starts with `gatehouse:`; the part in `{…}` is the Redis Cluster hash
 * tag, so keys that a Lua script or MULTI touches together always share a slot.
 *
 * oidc-provider's models (the adapters):
 *
 * | key                                  | type   | holds                                         |
 * | ------------------------------------ | ------ | --------------------------------------------- |
 * | `gatehouse:<Model>:{<id>}`           | string | `<flags><consumed>\|<JSON>` (record-encoding.ts) |
 * | `gatehouse:Grant:{<grantId>}`        | string | the Grant record (same shape)                 |
 * | `gatehouse:grant-tokens:{<grantId>}` | set    | `<Model>:{<id>}` of the grant's tokens        |
 * | `gatehouse:grant-revoked:{<grantId>}`| string | tombstone of a revoked grant                  |
 * | `gatehouse:uid:{<uid>}`              | string | Session id for a session uid                  |
 * | `gatehouse:user-code:{<userCode>}`   | string | DeviceCode id for a user code                 |
 * | `gatehouse:rt-lock:{<tokenId>}`      | string | owner of the lock serialising one refresh     |
 *
 * The Grant record, its member set and its tombstone share the `{<grantId>}` tag.
 *
 * Accounts (`accounts/`). No command touches two of these keys except the two grant keys, which
 * share the `{<sub>}` tag and are written together in one MULTI, so the account store runs the
 * same on a standalone Redis and on a Cluster:
 *
 * | key                                      | type   | holds                                        |
 * | ---------------------------------------- | ------ | -------------------------------------------- |
 * | `gatehouse:account:{<emailKey>}`         | hash   | the account record                           |
 * | `gatehouse:account:id:{<sub>}`           | string | `<emailKey>` of the account with that `sub`  |
 * | `gatehouse:account:grants:{<sub>}`       | set    | ids of every Grant the account consented to  |
 * | `gatehouse:account:client-grant:{<sub>}` | hash   | client_id → id of the account's latest Grant |
 * | `gatehouse:account:token:{<tokenHash>}`  | string | JSON of a pending email token (verify/reset) |
 *
 * Everything else:
 *
 * | key                                      | type   | holds                                        |
 * | ---------------------------------------- | ------ | -------------------------------------------- |
 * | `gatehouse:ratelimit:{<key>}`            | string | a fixed-window counter (`security/`)         |
 * | `gatehouse:ratelimit:{<key>}:in-flight`  | zset   | attempts being evaluated, beside the counter |
 * | `gatehouse:keys`                         | string | the encrypted signing key set (`signing-keys/`) |
 * | `gatehouse:clients`                      | set    | ids of the clients the CLI registered        |
 * | `gatehouse:replay:{<id>}`                | string | a claimed one-time id (DPoP proof `jti`)     |
 * | `gatehouse:lockouts`                     | zset   | live lockouts: limiter key → end (epoch ms)  |
 *
 * Pub/sub channel: `gatehouse:lockouts` (`security/lockout-broadcast.ts`), one message per
 * lockout as it starts, so every instance refuses what one locked.
 *
 * No two prefixes differ only by case: Redis keys are case-sensitive, people reading them are not.
 * Releases before this one kept the member set at `gatehouse:grant:{<grantId>}` (next to the
 * `gatehouse:Grant:` record); see {@link legacyGrantSetKey}. They also stored records as hashes
 * (`payload`, `consumed`, index fields) and grant-set members as whole record keys: both are
 * still read (redis-adapter.ts, {@link recordKeyOfMember}).
 */

/** Models whose records carry `grantId` and are revoked with their grant (as oidc-provider's own adapter). */
export const GRANT_BOUND_MODELS: ReadonlySet<string> = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

export function recordKey(model: string, id: string): string {
  return `gatehouse:${model}:{${id}}`;
}

/** `gatehouse:<Model>:{<id>}` → id (model names hold no `{`, so the first one opens the tag). */
export function idOfRecordKey(key: string): string {
  return key.slice(key.indexOf('{') + 1, -1);
}

const PREFIX = 'gatehouse:';

/**
 * What a grant set holds for a record: its key without `gatehouse:`. Ten bytes shorter, which keeps
 * `AuthorizationCode:{<43-char id>}` under Redis' 64-byte listpack limit, so a grant's set stays
 * a compact listpack instead of a hash table.
 */
export function grantMember(recordKeyOfToken: string): string {
  return recordKeyOfToken.startsWith(PREFIX) ? recordKeyOfToken.slice(PREFIX.length) : recordKeyOfToken;
}

/** The record key of a grant-set member: {@link grantMember}'s form, or a whole key (earlier releases). */
export function recordKeyOfMember(member: string): string {
  return member.startsWith(PREFIX) ? member : `${PREFIX}${member}`;
}

export function grantSetKey(grantId: string): string {
  return `gatehouse:grant-tokens:{${grantId}}`;
}

/**
 * Where earlier releases kept the grant's member set. Nothing writes it any more; a revocation
 * still reads and deletes it, so tokens issued before an upgrade are revoked with their grant.
 * Such a set expires with its longest-lived member, at most REFRESH_TOKEN_TTL after the upgrade;
 * after that this name can go.
 */
export function legacyGrantSetKey(grantId: string): string {
  return `gatehouse:grant:{${grantId}}`;
}

export function grantTombstoneKey(grantId: string): string {
  return `gatehouse:grant-revoked:{${grantId}}`;
}

export function uidKey(uid: string): string {
  return `gatehouse:uid:{${uid}}`;
}

export function userCodeKey(userCode: string): string {
  return `gatehouse:user-code:{${userCode}}`;
}

/** The secondary-index fields the adapters read out of a payload. */
export interface RecordIndexes {
  readonly grantId: string | undefined;
  readonly uid: string | undefined;
  readonly userCode: string | undefined;
}

/**
 * Which indexes a record of `model` belongs to. Only grant-bound models join the grant set
 * (an Interaction carries `grantId` too, but is not a token of the grant); only a Session's
 * `uid` is looked up by `findByUid`, only a DeviceCode's `userCode` by `findByUserCode`.
 */
export function indexesOf(model: string, payload: Readonly<Record<string, unknown>>): RecordIndexes {
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  return {
    grantId: GRANT_BOUND_MODELS.has(model) ? text(payload.grantId) : undefined,
    uid: model === 'Session' ? text(payload.uid) : undefined,
    userCode: model === 'DeviceCode' ? text(payload.userCode) : undefined,
  };
}

/**
 * Whether a record of `model` can have an index entry at all ({@link indexesOf}): deleting
 * one of any other model (an Interaction, a Grant record) needs no look at what it held.
 */
export function mayBeIndexed(model: string): boolean {
  return GRANT_BOUND_MODELS.has(model) || model === 'Session' || model === 'DeviceCode';
}

/** The lock that serialises concurrent refreshes of one refresh token across instances. */
export function refreshLockKey(tokenId: string): string {
  return `gatehouse:rt-lock:{${tokenId}}`;
}

/**
 * The account record. `<emailKey>` is the base64url SHA-256 of the normalized email: the record
 * key *is* the unique email index, so "create unless the email is taken" is one atomic
 * single-key script, and an email with `{` or `}` in it cannot break the hash tag. The record's
 * fields are described in `accounts/account-store.ts`.
 */
export function accountKey(emailKey: string): string {
  return `gatehouse:account:{${emailKey}}`;
}

/** Written once at creation and never changed (emails cannot change): read it, then the record, without a transaction. */
export function accountIdKey(sub: string): string {
  return `gatehouse:account:id:{${sub}}`;
}

export function accountGrantsKey(sub: string): string {
  return `gatehouse:account:grants:{${sub}}`;
}

export function accountClientGrantKey(sub: string): string {
  return `gatehouse:account:client-grant:{${sub}}`;
}

/**
 * A pending email token, stored under the SHA-256 of the token sent by mail, never the token
 * itself. A reset token's JSON also holds a digest of the password hash it was issued for, and a
 * reset replaces the hash only while it is still that one (one compare-and-set script on the record).
 */
export function emailTokenKey(tokenHash: string): string {
  return `gatehouse:account:token:{${tokenHash}}`;
}

/** A rate-limit counter; keys are caller-chosen strings (hashed when they hold personal data). */
export function rateLimitKey(key: string): string {
  return `gatehouse:ratelimit:{${key}}`;
}

/** The attempts being evaluated against a counter: same hash tag, so one script sees both. */
export function rateLimitInFlightKey(key: string): string {
  return `${rateLimitKey(key)}:in-flight`;
}

/**
 * Lockouts in force (`security/lockout-broadcast.ts`): the limiter key of each check that tripped,
 * scored by when it ends, so an instance that subscribes (or resubscribes) learns those that
 * started before. One key: it is written beside the tripped counter, not in the same script.
 */
export const LOCKOUTS_KEY = 'gatehouse:lockouts';
/** The channel a lockout is announced on as it starts. */
export const LOCKOUT_CHANNEL = 'gatehouse:lockouts';

/** The encrypted signing key set; a single key, so its compare-and-set runs unchanged on a Cluster. */
export const SIGNING_KEYS_REDIS_KEY = 'gatehouse:keys';

/**
 * Set of the client ids the CLI registered, so `clients list` needs no SCAN (which a Cluster
 * would have to run on every node). Clients registered over RFC 7591 dynamic registration or
 * loaded from GATEHOUSE_CLIENTS_FILE are not in it.
 */
export const CLIENT_IDS_KEY = 'gatehouse:clients';

/**
 * A one-time identifier already seen (`store/replay-guard.ts`): `<id>` is the base64url SHA-256
 * of the issuer of the proof (its client) and its `jti`, so caller input never shapes the key.
 */
export function replayKey(id: string): string {
  return `gatehouse:replay:{${id}}`;
}
