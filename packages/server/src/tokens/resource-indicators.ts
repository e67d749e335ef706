import { type Client, errors, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import type { ResourceServerConfig } from '../config/config.ts';

/**
 * RFC 8707 resource indicators → JWT access tokens (RFC 9068) for the configured APIs.
 * The audience of a token is the resource URI; only that API's scopes ride in it.
 */
export function createResourceIndicators(
  resources: readonly ResourceServerConfig[],
  options: { accessTokenTTL: number; signingAlg: string },
) {
  // What each API's tokens look like never changes: built once, not per token request (frozen,
  // since oidc-provider keeps references to it in its ResourceServer objects).
  const byUri = new Map(
    resources.map((resource) => [
      resource.uri,
      Object.freeze({
        scope: resource.scopes.join(' '),
        audience: resource.uri,
        accessTokenTTL: resource.accessTokenTTL ?? options.accessTokenTTL,
        accessTokenFormat: 'jwt',
        jwt: Object.freeze({ sign: Object.freeze({ alg: options.signingAlg }) }),
      }) as ResourceServer,
    ]),
  );

  function requestedScopes(ctx: KoaContextWithOIDC): Set<string> {
    const { params, entities } = ctx.oidc;
    const scope =
      (typeof params?.scope === 'string' ? params.scope : undefined) ??
      entities.AuthorizationCode?.scope ??
      entities.RefreshToken?.scope ??
      entities.DeviceCode?.scope ??
      (ctx.oidc.route === 'token' ? entities.Client?.scope : undefined);
    return new Set(scope?.split(' ') ?? []);
  }

  return {
    enabled: true as const,
    /**
     * A client that sends no `resource` still gets a JWT for its default API: the first
     * configured resource whose scopes it asked for. Plain OAuth clients work unchanged.
     * A grant consented for several APIs (RFC 8707 §2.1: several `resource` at authorization)
     * mints one audience per token request (§2.2): a code exchange or refresh that names none
     * gets the first of them; one that names another consented API gets that one, and one the
     * grant does not cover is refused with `invalid_target` by oidc-provider.
     */
    defaultResource(ctx: KoaContextWithOIDC, _client: Client, oneOf?: readonly string[]) {
      if (oneOf) return oneOf.length > 1 && ctx.oidc.route === 'token' ? oneOf[0] : oneOf;
      const scopes = requestedScopes(ctx);
      const match = resources.find((r) => r.scopes.some((s) => scopes.has(s)));
      return match?.uri ?? undefined;
    },
    // Refresh and code exchanges keep the audience the user consented to.
    useGrantedResource: () => true,
    getResourceServerInfo(_ctx: KoaContextWithOIDC, indicator: string): ResourceServer {
      const info = byUri.get(indicator);
      if (!info) throw new errors.InvalidTarget(`unknown resource indicator: ${indicator}`);
      return info;
    },
  };
}

/**
 * RFC 8707 §2.2: a refresh naming a `resource` its grant was not consented for is
 * `invalid_target`. oidc-provider resolves the resource only after it has rotated (spent) the
 * presented refresh token, so the refusal would turn the client's next, correct refresh into a
 * replay that revokes the whole grant. Called from the `rotateRefreshToken` hook, which runs
 * after client authentication and every other check and just before the token is consumed.
 */
export function refuseUncoveredResource(ctx: KoaContextWithOIDC): void {
  const requested = ctx.oidc.params?.resource;
  const token = ctx.oidc.entities.RefreshToken;
  if (!requested || !token) return;
  const covered = token.resourceIndicators ?? new Set<string>();
  for (const resource of [requested].flat()) {
    if (typeof resource !== 'string' || !covered.has(resource)) throw new errors.InvalidTarget();
  }
}
