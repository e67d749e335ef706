import type { Adapter } from 'oidc-provider';

/** Lifetimes the adapters need from the server configuration. */
export interface AdapterOptions {
  /**
   * Seconds a revoked grant's tombstone is kept, so a token minted by a request racing the
   * revocation is never stored. Use the refresh token TTL: no request can outlive it.
   */
  readonly revokedTTL: number;
  /**
   * Seconds an access token of a revoked grant may still be presented (self-contained JWTs
   * cannot be recalled); the revocation event's `exp` is now + this.
   */
  readonly accessTokenTTL: number;
}

/** What oidc-provider's `adapter` option accepts: it calls `new Adapter(modelName)`. */
export type AdapterClass = new (name: string) => Adapter;

/**
 * Indexes (grant sets, uid and user-code pointers) get this many seconds more than their
 * members, so an index never expires a moment before the record it points to.
 */
export const INDEX_TTL_SLACK = 1;

/**
 * Seconds a record lives, -1 for "no expiry" (only when oidc-provider passes no expiresIn, as
 * for clients). A zero or negative expiresIn (a re-save of something about to expire) becomes
 * one second rather than "forever"; oidc-provider rejects it by its `exp` meanwhile.
 */
export function recordTTL(expiresIn: number | undefined): number {
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn)) return -1;
  return Math.max(1, Math.ceil(expiresIn));
}

export function epochSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
