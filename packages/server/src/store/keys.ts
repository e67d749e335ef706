/**
 * Redis key naming. Every key starts with `gatehouse:`; the part in `{…}` is the Redis Cluster
 * hash tag, so keys that a Lua script touches together always share a slot:
 *
 * | key                                  | type   | holds                                         |
 * | ------------------------------------ | ------ | --------------------------------------------- |
 * | `gatehouse:<Model>:{<id>}`           | hash   | `payload` (JSON), `consumed`, index fields    |
 * | `gatehouse:Grant:{<grantId>}`        | hash   | the Grant record (same shape)                 |
 * | `gatehouse:grant-tokens:{<grantId>}` | set    | record keys of tokens issued under the grant  |
 * | `gatehouse:grant-revoked:{<grantId>}`| string | tombstone of a revoked grant                  |
 * | `gatehouse:uid:{<uid>}`              | string | Session id for a session uid                  |
 * | `gatehouse:user-code:{<userCode>}`   | string | DeviceCode id for a user code                 |
 *
 * The Grant record, its member set and its tombstone share the `{<grantId>}` tag.
 *
 * No two prefixes differ only by case: Redis keys are case-sensitive, people reading them are not.
 * Releases before this one kept the member set at `gatehouse:grant:{<grantId>}` (next to the
 * `gatehouse:Grant:` record); see {@link legacyGrantSetKey}.
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
 * `uid` is looked up by `findByUid`.
 */
export function indexesOf(model: string, payload: Readonly<Record<string, unknown>>): RecordIndexes {
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  return {
    grantId: GRANT_BOUND_MODELS.has(model) ? text(payload.grantId) : undefined,
    uid: model === 'Session' ? text(payload.uid) : undefined,
    userCode: text(payload.userCode),
  };
}
