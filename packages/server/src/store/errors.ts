import { errors } from 'oidc-provider';

/**
 * Seconds a client should wait before retrying while the store is unavailable: the `Retry-After`
 * of every 503 the server answers (the fail-fast connection notices a returning Redis within a second).
 */
export const STORE_RETRY_AFTER_SECONDS = 1;

/**
 * The token store (Redis) cannot answer right now: connection closed, offline, command
 * timed out, or the cluster is down. oidc-provider renders an exposed error as a JSON OAuth
 * error with its status, so the client sees `503 temporarily_unavailable` instead of an
 * opaque 500 and knows a retry may succeed.
 *
 * @example
 * if (err instanceof StoreUnavailableError) ctx.set('Retry-After', String(STORE_RETRY_AFTER_SECONDS));
 */
export class StoreUnavailableError extends errors.OIDCProviderError {
  readonly code = 'STORE_UNAVAILABLE' as const;

  constructor(options?: { cause?: unknown }) {
    super(503, 'temporarily_unavailable', options === undefined ? undefined : { cause: options.cause });
    this.error_description = 'the token store is unavailable, retry shortly';
    // OIDCProviderError sets expose = status < 500; this 5xx is safe and useful to expose.
    this.expose = true;
    // allow_redirect stays true: at the authorization endpoint RFC 6749 §4.1.2.1 defines
    // `temporarily_unavailable` precisely to redirect it, as a 503 cannot reach the client there.
  }
}

/**
 * A one-time token (authorization code, refresh token, device code, PAR, pre-authorized code)
 * was consumed concurrently by another request. Thrown from `consume()` because oidc-provider
 * ignores its return value, so only a throw stops a second redemption.
 * `grantId` lets the grant layer revoke what the token issued:
 * RFC 6749 §4.1.2 (a replayed code revokes its tokens), RFC 9700 §4.14.2 (refresh token reuse).
 */
export class TokenAlreadyConsumedError extends errors.InvalidGrant {
  readonly code = 'TOKEN_ALREADY_CONSUMED' as const;
  /** oidc-provider model name, e.g. `RefreshToken`. */
  readonly kind: string;
  readonly id: string;
  readonly grantId: string | undefined;

  constructor(kind: string, id: string, grantId: string | undefined) {
    super('token already used');
    this.error_description = 'token already used';
    this.kind = kind;
    this.id = id;
    this.grantId = grantId;
  }
}

/**
 * `consume()` found no record: it expired, or was destroyed/revoked between the grant's
 * `find()` and its `consume()`. Continuing would redeem a token that no longer exists.
 */
export class TokenNotFoundError extends errors.InvalidGrant {
  readonly code = 'TOKEN_NOT_FOUND' as const;
  readonly kind: string;
  readonly id: string;

  constructor(kind: string, id: string) {
    super('token not found');
    this.error_description = 'token not found';
    this.kind = kind;
    this.id = id;
  }
}

/** Every error the store raises itself; `switch (err.code)` narrows. */
export type StoreError = StoreUnavailableError | TokenAlreadyConsumedError | TokenNotFoundError;

/**
 * Converts whatever a Redis call threw into what oidc-provider should render: protocol errors
 * pass through, everything else (ioredis connection/timeout/cluster errors, unexpected replies)
 * becomes a 503 with the original as `cause` for the logs.
 */
export function toStoreError(err: unknown): Error {
  if (err instanceof errors.OIDCProviderError) return err;
  return new StoreUnavailableError({ cause: err });
}
