/**
 * The revocation channel between a Gatehouse server and the APIs that verify its access tokens:
 * where revocations are published, where they are kept for late subscribers, and what one looks
 * like. The server writes it and `@gatehouse/resource` reads it; both import this module
 * (`@gatehouse/resource/revocation-contract`), which holds no code of either side.
 *
 * A revocation names a grant. Every access token carries its grant in `gid`, and a token revoked
 * on its own (RFC 7009) takes its grant with it, so there is no per-token (`jti`) revocation: a
 * client-credentials token, which has no grant, expires with its lifetime instead.
 */

/** Redis Pub/Sub channel carrying one JSON {@link RevocationEvent} per message. */
export const REVOCATION_CHANNEL = 'gatehouse:revocations';

/**
 * Redis sorted set of the revocations still relevant: member {@link revokedMember} (`grant:<id>`),
 * score = the event's `exp`. The server prunes members whose score has passed on every write; a
 * verifier reads it at start and after every reconnect, so an event published while it was
 * disconnected is not lost.
 */
export const REVOKED_KEY = 'gatehouse:revoked';

/**
 * A revoked grant: every access token carrying `gid: id` is refused from now on. `exp` is the
 * epoch second until which tokens of it may still be alive (revocation time + the longest access
 * token lifetime); after that the entry can be forgotten.
 *
 * @example
 * ```ts
 * const event: RevocationEvent = { type: 'grant', id: grantId, exp: Math.floor(Date.now() / 1000) + 900 };
 * ```
 */
export interface RevocationEvent {
  readonly type: 'grant';
  /** The revoked grant id (the `gid` claim of its access tokens). */
  readonly id: string;
  readonly exp: number;
}

/**
 * Where a verifier learns about revocations: the Redis channel of a Gatehouse server
 * (`redisRevocationSource`) or, when both run in one process on the in-process store, that
 * server's own source (`GatehouseServer.revocations`).
 *
 * @example
 * ```ts
 * const listeners = new Set<(e: RevocationEvent) => void>();
 * const source: RevocationSource = {
 *   subscribe(listener) {
 *     listeners.add(listener);
 *     return () => listeners.delete(listener);
 *   },
 * };
 * ```
 */
export interface RevocationSource {
  /** Calls `listener` for every revocation from now on; returns the unsubscribe function. */
  subscribe(listener: (event: RevocationEvent) => void): () => void;
  /** Revocations that are still relevant (not yet expired), loaded when the verifier starts. */
  list?(): Promise<RevocationEvent[]>;
}

/**
 * The {@link REVOKED_KEY} member of an event.
 *
 * @example
 * ```ts
 * revokedMember({ type: 'grant', id: 'g1', exp: 1767225600 }); // 'grant:g1'
 * ```
 */
export function revokedMember(event: RevocationEvent): string {
  return `${event.type}:${event.id}`;
}

/**
 * Reads a {@link REVOKED_KEY} member and its score back into an event, or `undefined` if it is
 * not one (an unknown type, an empty id, a score that is no number).
 *
 * @example
 * ```ts
 * parseRevokedMember('grant:g1', 1767225600); // { type: 'grant', id: 'g1', exp: 1767225600 }
 * ```
 */
export function parseRevokedMember(member: string, exp: number): RevocationEvent | undefined {
  const colon = member.indexOf(':');
  const type = member.slice(0, colon);
  const id = member.slice(colon + 1);
  if (colon < 0 || type !== 'grant' || id === '' || !Number.isFinite(exp)) return undefined;
  return { type, id, exp };
}

/**
 * Parses a published revocation (`{"type":"grant","id":"…","exp":…}`), or `undefined` if malformed.
 *
 * @example
 * ```ts
 * parseRevocationEvent('{"type":"grant","id":"g1","exp":1767225600}');
 * // { type: 'grant', id: 'g1', exp: 1767225600 }
 * ```
 */
export function parseRevocationEvent(message: string): RevocationEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { type, id, exp } = value as Record<string, unknown>;
  if (type !== 'grant' || typeof id !== 'string' || id === '') return undefined;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return undefined;
  return { type, id, exp };
}
