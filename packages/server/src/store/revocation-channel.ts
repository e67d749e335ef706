/**
 * Revocation events for resource servers. The server publishes one event per revoked grant;
 * verifiers (packages/resource) subscribe to drop cached verification results, and read
 * {@link REVOKED_SET} on (re)connect to catch up on what they missed while disconnected.
 */

/** Redis Pub/Sub channel carrying a JSON {@link RevocationEvent} per message. */
export const REVOCATION_CHANNEL = 'gatehouse:revocations';

/**
 * Redis sorted set of revoked things still relevant: member `grant:<grantId>`, score = the
 * event's `exp`. Members whose score is in the past are pruned on every write.
 */
export const REVOKED_SET = 'gatehouse:revoked';

export interface RevocationEvent {
  readonly type: 'grant';
  /** The revoked grant id (the `grantId` every token of the grant carries). */
  readonly id: string;
  /** Epoch seconds until which tokens of this grant may still be presented (now + access token TTL). */
  readonly exp: number;
}

/** The {@link REVOKED_SET} member for an event. */
export function revokedSetMember(event: RevocationEvent): string {
  return `${event.type}:${event.id}`;
}
