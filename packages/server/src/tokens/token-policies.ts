import type Koa from 'koa';
import type { AdapterConstructor, KoaContextWithOIDC } from 'oidc-provider';
import {
  answerDisallowedGrantAsUnauthorizedClient,
  codeBoundToAnotherKey,
} from '../oidc-provider/oidc-provider-quirks.ts';
import type { FormRequest } from './form-endpoint-guard.ts';
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
  readonly adapter: AdapterConstructor;
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
  const refreshTokens = new deps.adapter('RefreshToken');
  const codes = new deps.adapter('AuthorizationCode');

  async function withReuseWindow(ctx: Koa.Context, request: FormRequest, next: () => Promise<void>) {
    const presented = request.params.refresh_token;
    if (
      deps.reuseInterval <= 0 ||
      request.params.grant_type !== 'refresh_token' ||
      typeof presented !== 'string'
    ) {
      return next();
    }
    const release = await deps.serializer.acquire(presented);
    try {
      const record = (await refreshTokens.find(presented)) as { consumed?: number } | undefined;
      const consumedAt = typeof record?.consumed === 'number' ? record.consumed : undefined;
      if (consumedAt !== undefined && epoch() - consumedAt <= deps.reuseInterval) {
        const successor = await deps.successors.successorOf(presented);
        if (successor) {
          request.replace('refresh_token', successor);
          stateOf(ctx).reuseSuccessor = true;
        }
      }
      await next();
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

  return async function tokenPolicies(ctx: Koa.Context, request: FormRequest, next: () => Promise<void>) {
    if (request.path !== '/token' && request.path !== '/device/auth') return next();
    // RFC 6749 §5.2: a scope the server does not know is invalid_scope (oidc-provider would
    // silently drop it and issue a token with less than was asked for).
    const scope = request.params.scope;
    const unknown =
      typeof scope === 'string' ? scope.split(' ').filter((s) => s && !deps.knownScopes.has(s)) : [];
    if (unknown.length > 0) {
      ctx.status = 400;
      ctx.set('Cache-Control', 'no-store');
      // RFC 6749 §5.2: error_description is limited to printable ASCII without '"' and '\'.
      const printable = unknown.every((s) => /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s));
      ctx.body = {
        error: 'invalid_scope',
        error_description: printable ? `unknown scope: ${unknown.join(' ')}` : 'unknown scope requested',
      };
      return;
    }
    if (request.path !== '/token') return next();
    const code = request.params.code;
    if (request.params.grant_type === 'authorization_code' && typeof code === 'string') {
      const refusal = await codeBoundToAnotherKey(codes, code, ctx.get('DPoP') || undefined);
      if (refusal) {
        ctx.status = 400;
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { error: 'invalid_grant', error_description: refusal };
        return;
      }
    }
    await withReuseWindow(ctx, request, next);

    answerDisallowedGrantAsUnauthorizedClient(ctx);

    const race = stateOf(ctx).consumeRace;
    if (race?.grantId) await deps.revokeGrant(race.grantId);
  };
}
