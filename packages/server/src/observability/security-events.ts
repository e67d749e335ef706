import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { PasswordCheck } from '../accounts/account-store.ts';
import { TokenAlreadyConsumedError } from '../store/errors.ts';
import type { Logger } from './logger.ts';
import type { GatehouseMetrics } from './metrics.ts';

/**
 * Why a verified sign-in attempt was refused, exactly as the account store answers:
 * `invalid_credentials` (unknown email or wrong password; the store does not say which) or
 * `disabled` (right password, disabled account). An attempt refused by the lockout is no
 * `login_failed`: its password is never checked, and the lockout itself is one `lockout` event.
 */
export type LoginFailureReason = Extract<PasswordCheck, { ok: false }>['reason'];

/**
 * The events an operator (or a SIEM) watches for, one log line each, `event` naming the type.
 * Fields identify who and what, never a credential: an account id rather than the submitted
 * email (people paste passwords into the email field), a client id, a grant id.
 */
export type SecurityEvent =
  | {
      readonly type: 'login_failed';
      readonly reason: LoginFailureReason;
      /**
       * The account, when the caller knows it. The sign-in page does not set it: a refused
       * password does not tell whether the email belongs to an account.
       */
      readonly accountId?: string;
      readonly ip?: string;
    }
  | {
      readonly type: 'lockout';
      /**
       * The limit that tripped: sign-in failures on one account (`account`), or from one address
       * (`ip`, sign-in or client authentication), or one client's failures from one address
       * (`client`), or wrong device user codes (`user_code`, RFC 8628 §5.1) or registration
       * initial access tokens (`registration_token`) from one address. Logged once, when the limit
       * is first reached, not for each refused request.
       */
      readonly scope: 'account' | 'ip' | 'client' | 'user_code' | 'registration_token';
      readonly accountId?: string;
      readonly ip?: string;
      readonly clientId?: string;
      readonly retryAfterSeconds?: number;
    }
  | {
      readonly type: 'refresh_replay_detected';
      readonly clientId?: string;
      readonly grantId?: string;
      readonly accountId?: string;
      readonly ip?: string;
      /** `replay`: presented after rotation; `race`: lost a concurrent redemption. */
      readonly via: 'replay' | 'race';
    }
  | {
      readonly type: 'code_replay_detected';
      readonly clientId?: string;
      readonly grantId?: string;
      readonly ip?: string;
      readonly via: 'replay' | 'race';
    }
  | {
      readonly type: 'grant_revoked';
      readonly grantId: string;
      readonly clientId?: string;
      readonly accountId?: string;
      /** The route or command that revoked it (`revocation`, `token`, `users revoke`, …). */
      readonly by?: string;
    }
  | {
      readonly type: 'key_rotated';
      /** The new signing key's `kid`. */
      readonly kid: string;
      readonly previousKid?: string;
      /** Unix seconds from which the new key signs (after pre-publication). */
      readonly activeFrom?: number;
    }
  | {
      readonly type: 'client_auth_failed';
      /** The client id the caller claimed (it may not exist). */
      readonly claimedClientId?: string;
      readonly route?: string;
      readonly ip?: string;
      readonly detail?: string;
    };

export type SecurityEventType = SecurityEvent['type'];

/** Fields any security event may carry besides its own. */
export interface SecurityEventContext {
  /** The request's id ({@link requestIdOf}), to find its request line. */
  readonly requestId?: string;
}

/**
 * Logs one security event at `warn` (`info` for routine key rotations) and counts it when
 * `metrics` is given.
 *
 * @example
 * logSecurityEvent(log, { type: 'login_failed', reason: 'invalid_credentials', ip: ctx.ip, requestId: requestIdOf(ctx) }, metrics);
 */
export function logSecurityEvent(
  log: Logger,
  event: SecurityEvent & SecurityEventContext,
  metrics?: GatehouseMetrics,
): void {
  const { type, ...fields } = event;
  const line = { event: type, security: true, ...fields };
  if (type === 'key_rotated' || type === 'grant_revoked') log.info(line, `security: ${type}`);
  else log.warn(line, `security: ${type}`);
  if (!metrics) return;
  switch (event.type) {
    case 'login_failed':
      metrics.loginFailures.inc({ reason: event.reason });
      break;
    case 'lockout':
      metrics.lockouts.inc({ scope: event.scope });
      break;
    case 'refresh_replay_detected':
      metrics.refreshReplays.inc();
      break;
    case 'code_replay_detected':
      metrics.codeReplays.inc();
      break;
    case 'grant_revoked':
      metrics.grantsRevoked.inc();
      break;
    case 'key_rotated':
      metrics.keyRotations.inc();
      break;
    case 'client_auth_failed':
      // Counted from the response by the request observer (observeRequests), which sees every route's invalid_client.
      break;
  }
}

interface ProviderError {
  readonly error?: unknown;
  readonly error_detail?: unknown;
}

/** A claimed client id is caller input: kept short and printable in the log. */
export function printableClientId(id: string): string {
  return /^[\x21-\x7E]{1,128}$/.test(id) ? id : '[unprintable]';
}

function claimedClientId(ctx: KoaContextWithOIDC): string | undefined {
  const id = ctx.oidc?.params?.client_id ?? ctx.oidc?.client?.clientId;
  if (typeof id !== 'string' || id === '') return undefined;
  return printableClientId(id);
}

function ipOf(ctx: KoaContextWithOIDC): string | undefined {
  return typeof ctx.ip === 'string' && ctx.ip !== '' ? ctx.ip : undefined;
}

function requestIdFrom(ctx: KoaContextWithOIDC): string | undefined {
  const id = (ctx.state as { requestId?: unknown } | undefined)?.requestId;
  return typeof id === 'string' ? id : undefined;
}

/** Fields the spread can omit instead of setting to `undefined` (exactOptionalPropertyTypes). */
function defined<T extends Record<string, unknown>>(fields: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

/**
 * Turns oidc-provider events into security events: refresh and code replays (RFC 9700
 * §4.14.2, RFC 6749 §4.1.2), failed client authentication at every client-authenticated
 * endpoint, and revoked grants. Sign-in failures and lockouts come from the pages and
 * limiters, key rotations from the key code; they call {@link logSecurityEvent} themselves.
 * Attach to every provider instance (a key rotation builds a new one).
 */
export function attachSecurityEvents(provider: Provider, log: Logger, metrics?: GatehouseMetrics): void {
  // A spent code or refresh token presented again: oidc-provider revokes its grant (RFC 6749
  // §4.1.2, RFC 9700 §4.14.2), emitting grant.revoked, then answers invalid_grant. The token
  // endpoint revokes nothing else, so that pair of events is the replay. A concurrent
  // redemption that lost the race is the store's TokenAlreadyConsumedError instead.
  const revokedByTokenRequest = new WeakMap<object, string>();
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    if (ctx.oidc?.route === 'token') revokedByTokenRequest.set(ctx, grantId);
  });
  provider.on('grant.error', (ctx: KoaContextWithOIDC, err: unknown) => {
    const race = err instanceof TokenAlreadyConsumedError ? err : undefined;
    const revoked = err instanceof errors.InvalidGrant ? revokedByTokenRequest.get(ctx) : undefined;
    if (!race && revoked === undefined) return;
    const grantType = ctx.oidc?.params?.grant_type;
    const clientId = ctx.oidc?.client?.clientId;
    const via = race ? 'race' : 'replay';
    const grantId = race ? race.grantId : revoked;
    if (race ? race.kind === 'RefreshToken' : grantType === 'refresh_token') {
      logSecurityEvent(
        log,
        {
          type: 'refresh_replay_detected',
          via,
          ...defined({
            clientId,
            grantId,
            accountId: ctx.oidc?.entities?.RefreshToken?.accountId,
            ip: ipOf(ctx),
            requestId: requestIdFrom(ctx),
          }),
        },
        metrics,
      );
    } else if (race ? race.kind === 'AuthorizationCode' : grantType === 'authorization_code') {
      logSecurityEvent(
        log,
        {
          type: 'code_replay_detected',
          via,
          ...defined({ clientId, grantId, ip: ipOf(ctx), requestId: requestIdFrom(ctx) }),
        },
        metrics,
      );
    }
  });

  const clientAuthFailed = (ctx: KoaContextWithOIDC, err: ProviderError) => {
    if (err.error !== 'invalid_client') return;
    logSecurityEvent(
      log,
      {
        type: 'client_auth_failed',
        ...defined({
          claimedClientId: claimedClientId(ctx),
          route: ctx.oidc?.route,
          ip: ipOf(ctx),
          detail: typeof err.error_detail === 'string' ? err.error_detail : undefined,
          requestId: requestIdFrom(ctx),
        }),
      },
      metrics,
    );
  };
  provider.on('grant.error', clientAuthFailed);
  provider.on('introspection.error', clientAuthFailed);
  provider.on('revocation.error', clientAuthFailed);

  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    logSecurityEvent(
      log,
      {
        type: 'grant_revoked',
        grantId,
        ...defined({
          clientId: ctx.oidc?.client?.clientId,
          by: ctx.oidc?.route,
          requestId: requestIdFrom(ctx),
        }),
      },
      metrics,
    );
  });
}

/**
 * Returns a listener for the signing-key watcher: logs `key_rotated` (and counts it) when the
 * key that signs changes, i.e. when a rotated key's pre-publication ends on this instance.
 * The first call only records the current key. Every instance logs its own switch.
 *
 * @example
 * const onKeys = trackSigningKey(log, metrics);
 * onKeys(watcher.current); // at start; then on every change the watcher reports
 */
export function trackSigningKey(
  log: Logger,
  metrics?: GatehouseMetrics,
): (keys: { readonly jwks: readonly { readonly kid?: string | undefined }[] }) => void {
  let signing: string | undefined;
  return (keys) => {
    const kid = keys.jwks[0]?.kid;
    if (kid === undefined || kid === signing) return;
    const previousKid = signing;
    signing = kid;
    if (previousKid === undefined) return;
    logSecurityEvent(log, { type: 'key_rotated', kid, previousKid }, metrics);
  };
}
