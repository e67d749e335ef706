import {
  createLocalJWKSet,
  decodeProtectedHeader,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import type Koa from 'koa';
import { refusedStructuredToken } from '../oidc-provider/oidc-provider-quirks.ts';
import { ExpiringMap } from '../security/expiring-map.ts';
import type { FormRequest } from './form-endpoint-guard.ts';

export interface JwtIntrospectionRevocationDeps {
  readonly issuer: string;
  /** The public JWKS the server currently publishes. */
  readonly publicJwks: () => JSONWebKeySet;
  /** Whether the grant (`gid` claim) still exists: revoked grants make their JWTs inactive. */
  readonly grantAlive: (grantId: string) => Promise<boolean>;
  readonly revokeGrant: (grantId: string) => Promise<void>;
}

/** Verified tokens remembered (their claims, until `exp`), as the resource verifier does. */
const VERIFIED_TOKENS = 10_000;

function looksLikeJwt(token: unknown): token is string {
  if (typeof token !== 'string' || token.split('.').length !== 3) return false;
  try {
    decodeProtectedHeader(token);
    return true;
  } catch {
    return false;
  }
}

/** The `cnf.jkt` (RFC 9449 §6.1) of a DPoP-bound JWT access token. */
function boundKeyThumbprint(claims: JWTPayload): string | undefined {
  const cnf = claims.cnf;
  if (typeof cnf !== 'object' || cnf === null) return undefined;
  const jkt = (cnf as { jkt?: unknown }).jkt;
  return typeof jkt === 'string' && jkt !== '' ? jkt : undefined;
}

/**
 * oidc-provider refuses JWT access tokens at introspection and revocation
 * ({@link refusedStructuredToken}). Gatehouse answers for them: the request goes through
 * oidc-provider as sent (client authentication and its errors), and once it has refused the
 * JWT for an authenticated client, the JWT is checked here.
 * - RFC 7662: active only with a valid signature, unexpired, its grant alive, and only to the
 *   client it was issued to (§4: never disclose another client's token).
 * - RFC 7009: revoking one revokes its grant, which resource servers learn about.
 */
export function createJwtIntrospectionRevocation(deps: JwtIntrospectionRevocationDeps) {
  // The key set changes only on rotation: build the verifier's view once per published set.
  let published: JSONWebKeySet['keys'] | undefined;
  let localSet: ReturnType<typeof createLocalJWKSet> | undefined;
  // A resource server introspects the same token on every request it serves: its signature is
  // checked once, its expiry and grant on every call. Keyed by the token itself (as in the
  // resource verifier: a string hash is cheaper than a SHA-256); only verified tokens are kept.
  let verified = new ExpiringMap<JWTPayload>(VERIFIED_TOKENS);
  function keySet() {
    const { keys } = deps.publicJwks();
    if (keys !== published || !localSet) {
      published = keys;
      localSet = createLocalJWKSet({ keys });
      // A key no longer published verifies nothing any more, cached or not.
      verified = new ExpiringMap<JWTPayload>(VERIFIED_TOKENS);
    }
    return localSet;
  }

  async function verify(token: string): Promise<JWTPayload | undefined> {
    const keys = keySet();
    const known = verified.get(token);
    // jose's own rule for `exp`, without clock tolerance: expired once `exp` <= now.
    if (known && (known.exp as number) > Math.floor(Date.now() / 1000)) return known;
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: deps.issuer,
        typ: 'at+jwt',
        algorithms: ['ES256', 'EdDSA'],
        requiredClaims: ['exp', 'iat', 'jti', 'client_id'],
      });
      verified.set(token, payload, (payload.exp as number) * 1000 - Date.now());
      return payload;
    } catch {
      return undefined;
    }
  }

  // Not async: an opaque token (a refresh token) passes on without a promise of its own.
  return function jwtIntrospectionRevocation(
    ctx: Koa.Context,
    request: FormRequest,
    next: () => Promise<void>,
  ): Promise<void> {
    const token = request.params.token;
    if ((request.path !== '/introspect' && request.path !== '/revoke') || !looksLikeJwt(token)) return next();
    return answerForJwt(ctx, request, token, next);
  };

  async function answerForJwt(
    ctx: Koa.Context,
    request: FormRequest,
    token: string,
    next: () => Promise<void>,
  ) {
    await next();
    const clientId = refusedStructuredToken(ctx);
    if (clientId === undefined) return;

    const claims = await verify(token);
    const gid = typeof claims?.gid === 'string' ? claims.gid : undefined;
    const ownToken = claims?.client_id === clientId;
    ctx.status = 200;
    if (request.path === '/revoke') {
      // RFC 7009 §2.2: an invalid token, or another client's, is answered 200 all the same
      // (and with an empty body: the content type of the refusal goes with it).
      ctx.remove('Content-Type');
      ctx.body = '';
      if (claims && ownToken && gid) await deps.revokeGrant(gid);
      else if (claims && ownToken) {
        // A client-credentials JWT has no grant to revoke; say so rather than pretend (RFC 7009 §2.2.1).
        ctx.status = 400;
        ctx.body = {
          error: 'unsupported_token_type',
          error_description:
            'client credentials access tokens cannot be revoked; they expire with ACCESS_TOKEN_TTL',
        };
      }
      return;
    }
    if (!claims || !ownToken || (gid && !(await deps.grantAlive(gid)))) {
      ctx.body = { active: false };
      return;
    }
    // RFC 9449 §6.2: a DPoP-bound token is introspected with its key's thumbprint, so a resource
    // server that introspects can check the proof against it.
    const jkt = boundKeyThumbprint(claims);
    ctx.body = {
      active: true,
      token_type: jkt ? 'DPoP' : 'Bearer',
      ...(jkt ? { cnf: { jkt } } : {}),
      iss: claims.iss,
      sub: claims.sub,
      aud: claims.aud,
      client_id: claims.client_id,
      scope: claims.scope,
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
    };
  }
}
