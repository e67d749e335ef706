import type Koa from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AccountStore } from '../accounts/account-store.ts';
import {
  answerDisallowedGrantAsUnauthorizedClient,
  codeBoundToAnotherKey,
} from '../oidc-provider/oidc-provider-quirks.ts';
import type { ReadAhead } from '../store/read-ahead.ts';
import type { FormRequest } from './form-endpoint-guard.ts';
import { readGrantSourceAhead } from './grant-source-read-ahead.ts';
import type { RefreshSerializer, SuccessorLinks } from './refresh-reuse.ts';

/** Set on `ctx.state` by the provider's `grant.error` listener when a consume() race was lost. */
export interface ConsumeRace {
  readonly grantId: string | undefined;
  readonly kind: string;
}

export interface GatehouseState {
  /** The refresh token presented was swapped for its successor: answer without rotating. */
  reuseSuccessor?: boolean;
  consumeRace?: ConsumeRace;
}

export function stateOf(ctx: { state: unknown }): GatehouseState {
  return ctx.state as GatehouseState;
}

export interface TokenPolicyDeps {
  readonly reuseInterval: number;
  /** Every scope the server knows (OIDC scopes and the resources' scopes). */
  readonly knownScopes: ReadonlySet<string>;
  /** Redemptions' reads, made ahead of the provider (its adapter is {@link ReadAhead.Adapter}). */
  readonly readAhead: ReadAhead;
  readonly accounts: Pick<AccountStore, 'readAhead'>;
  readonly serializer: RefreshSerializer;
  readonly successors: SuccessorLinks;
  readonly revokeGrant: (grantId: string) => Promise<void>;
}

const epoch = () => Math.floor(Date.now() / 1000);

/**
 * Token-endpoint policies layered on oidc-provider:
 * - RFC 6749 §5.2: a grant type the client is not registered for is `unauthorized_client`.
 * - RFC 6749 §4.1.2 / RFC 9700 §4.14.2: the loser of a concurrent redemption of one code or
 *   refresh token presented an already-used credential; the grant is revoked, exactly as for a
 *   later replay (the server cannot tell the legitimate client from an attacker).
 * - REFRESH_TOKEN_REUSE_INTERVAL: inside the window a rotated refresh token is answered with the
 *   same successor it produced (lost-response recovery); after it, reuse revokes.
 * - RFC 9449 §10: a code bound to a DPoP key (`dpop_jkt`) presented with another key, or without
 *   a proof, is refused before it is consumed (quirk `dpop-jkt-checked-after-consume`).
 */
export function createTokenPolicies(deps: TokenPolicyDeps) {
  /** Inside REFRESH_TOKEN_REUSE_INTERVAL: the presented, just-rotated token answered with its successor. */
  async function withReuseWindow(
    ctx: Koa.Context,
    presented: string,
    request: FormRequest,
    next: () => Promise<void>,
  ) {
    const release = await deps.serializer.acquire(presented);
    try {
      await deps.readAhead.run(async (reads) => {
        const record = (await readGrantSourceAhead(reads, deps.accounts, 'RefreshToken', presented)) as
          | { consumed?: number }
          | undefined;
        const consumedAt = typeof record?.consumed === 'number' ? record.consumed : undefined;
        if (consumedAt !== undefined && epoch() - consumedAt <= deps.reuseInterval) {
          const successor = await deps.successors.successorOf(presented);
          if (successor) {
            request.replace('refresh_token', successor);
            stateOf(ctx).reuseSuccessor = true;
          }
        }
        await next();
      });
      const { entities } = (ctx as unknown as KoaContextWithOIDC).oidc ?? { entities: {} };
      const rotated = entities.RotatedRefreshToken?.jti;
      const successor = entities.RefreshToken?.jti;
      if (ctx.status === 200 && rotated && successor && rotated !== successor) {
        await deps.successors.link(rotated, successor);
      }
    } finally {
      await release();
    }
  }

  /**
   * A refresh: the provider's read of the token is made here, so that what it reads after it
   * (grant, session, account) is read in one round trip as soon as the token is in. Failures of
   * the read reach the provider, which takes it, as its own would.
   */
  async function redeemRefreshToken(presented: string, next: () => Promise<void>): Promise<void> {
    await deps.readAhead.run((reads) => {
      readGrantSourceAhead(reads, deps.accounts, 'RefreshToken', presented);
      return next();
    });
  }

  /**
   * RFC 9449 §10: a code bound to another DPoP key is refused before it is consumed. The code is
   * read once, and what the provider reads after it together: the provider is handed these reads.
   */
  async function redeemCode(ctx: Koa.Context, code: string, next: () => Promise<void>): Promise<void> {
    await deps.readAhead.run(async (reads) => {
      const record = await readGrantSourceAhead(reads, deps.accounts, 'AuthorizationCode', code);
      const refusal = await codeBoundToAnotherKey(record, ctx.get('DPoP') || undefined);
      if (refusal) {
        ctx.status = 400;
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { error: 'invalid_grant', error_description: refusal };
        return;
      }
      await next();
    });
  }

  /** After the token endpoint answered: the RFC 6749 §5.2 error code, and a lost consume race revokes. */
  function afterTokenRequest(ctx: Koa.Context): Promise<void> | undefined {
    answerDisallowedGrantAsUnauthorizedClient(ctx);
    const race = stateOf(ctx).consumeRace;
    return race?.grantId ? deps.revokeGrant(race.grantId) : undefined;
  }

  // Not async: a token request without a code or a refresh token (client credentials) costs no
  // promise of its own before the provider runs.
  return function tokenPolicies(ctx: Koa.Context, request: FormRequest, next: () => Promise<void>) {
    if (request.path !== '/token' && request.path !== '/device/auth') return next();
    // RFC 6749 §5.2: a scope the server does not know is invalid_scope (oidc-provider would
    // silently drop it and issue a token with less than was asked for).
    const unknown = unknownScopes(request.params.scope, deps.knownScopes);
    if (unknown) {
      ctx.status = 400;
      ctx.set('Cache-Control', 'no-store');
      // RFC 6749 §5.2: error_description is limited to printable ASCII without '"' and '\'.
      const printable = unknown.every((s) => /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s));
      ctx.body = {
        error: 'invalid_scope',
        error_description: printable ? `unknown scope: ${unknown.join(' ')}` : 'unknown scope requested',
      };
      return Promise.resolve();
    }
    if (request.path !== '/token') return next();
    const { grant_type: grantType, code, refresh_token: presented } = request.params;
    const endpoint =
      grantType === 'authorization_code' && typeof code === 'string'
        ? redeemCode(ctx, code, next)
        : grantType === 'refresh_token' && typeof presented === 'string'
          ? deps.reuseInterval > 0
            ? withReuseWindow(ctx, presented, request, next)
            : redeemRefreshToken(presented, next)
          : next();
    return endpoint.then(() => afterTokenRequest(ctx));
  };
}

/** The requested scopes the server does not know, or `undefined` when it knows them all. */
function unknownScopes(scope: unknown, known: ReadonlySet<string>): string[] | undefined {
  // One scope the server knows (most requests) needs no splitting.
  if (typeof scope !== 'string' || known.has(scope)) return undefined;
  const unknown = scope.split(' ').filter((s) => s && !known.has(s));
  return unknown.length > 0 ? unknown : undefined;
}
