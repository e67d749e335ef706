import { type Client, errors, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import type { ResourceServerConfig } from '../config.ts';

/**
 * RFC 8707 resource indicators → JWT access tokens (RFC 9068) for the configured APIs.
 * The audience of a token is the resource URI; only that API's scopes ride in it.
 */
export function createResourceIndicators(
  resources: readonly ResourceServerConfig[],
  options: { accessTokenTTL: number; signingAlg: string },
) {
  const byUri = new Map(resources.map((r) => [r.uri, r]));

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
     */
    defaultResource(ctx: KoaContextWithOIDC, _client: Client, oneOf?: readonly string[]) {
      if (oneOf) return oneOf;
      const scopes = requestedScopes(ctx);
      const match = resources.find((r) => r.scopes.some((s) => scopes.has(s)));
      return match?.uri ?? undefined;
    },
    // Refresh and code exchanges keep the audience the user consented to.
    useGrantedResource: () => true,
    getResourceServerInfo(_ctx: KoaContextWithOIDC, indicator: string): ResourceServer {
      const resource = byUri.get(indicator);
      if (!resource) throw new errors.InvalidTarget(`unknown resource indicator: ${indicator}`);
      return {
        scope: resource.scopes.join(' '),
        audience: resource.uri,
        accessTokenTTL: resource.accessTokenTTL ?? options.accessTokenTTL,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: options.signingAlg } },
      } as ResourceServer;
    },
  };
}
