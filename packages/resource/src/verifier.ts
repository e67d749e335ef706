import type { KeyObject } from 'node:crypto';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type FlattenedJWSInput,
  type JWKSCacheInput,
  type JWSHeaderParameters,
  type JWTPayload,
  jwksCache,
  jwtVerify,
  type RemoteJWKSet,
} from 'jose';
import { LRUCache } from 'lru-cache';
import { discoverJwksUri } from './discovery.ts';
import { createDpopBinding, type DpopVerifierOptions, type TokenPresentation } from './dpop-binding.ts';
import {
  type AuthChallenge,
  BearerError,
  type DpopMode,
  InvalidTokenError,
  setChallenge,
  TemporarilyUnavailableError,
} from './errors.ts';
import {
  claimChecks,
  type NodeJws,
  NodeJwsParser,
  NodeKeyCache,
  nodeVerificationKey,
  validateClaims,
  verifyNodeJws,
} from './node-signature.ts';
import { type RevocationEvent, RevocationList, type RevocationSource } from './revocations.ts';

/**
 * Asymmetric JWS algorithms the allow-list may contain; `none` and HS* are not expressible.
 *
 * @example
 * ```ts
 * const algorithms: AccessTokenAlgorithm[] = ['ES256', 'EdDSA'];
 * ```
 */
export type AccessTokenAlgorithm =
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'
  | 'Ed25519'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512';

const ASYMMETRIC = new Set<string>([
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
]);

/**
 * Claims of a Gatehouse access token (RFC 9068 §2.2), after verification.
 *
 * @example
 * ```ts
 * const { claims }: { claims: AccessTokenClaims } = await verifier.verify(token);
 * console.log(claims.jti, claims.gid ?? 'client credentials');
 * ```
 */
export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string | string[];
  client_id: string;
  iat: number;
  exp: number;
  jti: string;
  /** Space-separated scopes (RFC 9068 §2.2.3). */
  scope?: string;
  /** Grant id; absent for client-credentials tokens. Matched against grant revocations. */
  gid?: string;
  /** Confirmation (RFC 7800): `jkt` is the thumbprint of the DPoP key the token is bound to (RFC 9449 §6). */
  cnf?: { jkt?: string; [member: string]: unknown };
}

/**
 * A verified access token: what `ctx.state.auth` holds. Frozen, since cached results are shared.
 *
 * @example
 * ```ts
 * const auth: VerifiedAccessToken = await verifier.verify(token);
 * if (auth.scopes.includes('recipes:write')) console.log(`${auth.sub} via ${auth.clientId}`);
 * ```
 */
export interface VerifiedAccessToken {
  sub: string;
  clientId: string;
  scopes: string[];
  claims: AccessTokenClaims;
}

/**
 * Options of {@link createAccessTokenVerifier}.
 *
 * @example
 * ```ts
 * const options: AccessTokenVerifierOptions = {
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://api.example.com',
 *   clockTolerance: 10,
 *   cache: { max: 50_000 },
 * };
 * ```
 */
export interface AccessTokenVerifierOptions extends DpopVerifierOptions {
  /** The authorization server's issuer identifier; `iss` must equal it exactly. */
  issuer: string;
  /** This API's resource identifier (RFC 8707); `aud` must contain it. */
  audience: string;
  /**
   * JWKS location. Discovered from `${issuer}/.well-known/openid-configuration` when omitted.
   * @see https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig
   */
  jwksUri?: string | URL;
  /**
   * Accepted JWS algorithms (RFC 8725 §3.1: an explicit allow-list).
   * @default ['ES256', 'EdDSA']
   */
  algorithms?: readonly AccessTokenAlgorithm[];
  /** Seconds of clock skew tolerated for `exp`, `nbf` and `iat`. @default 5 */
  clockTolerance?: number;
  /** The `realm` of `WWW-Authenticate` challenges. @default audience */
  realm?: string;
  /** Tokens longer than this many characters are refused before parsing. @default 8192 */
  maxTokenLength?: number;
  /**
   * Verification result cache keyed by the token, each entry valid until the token's `exp`
   * and dropped on revocation; `false` turns it off.
   * @default { max: 10_000 }
   */
  cache?: false | { max?: number };
  /** Revocations to honour: {@link redisRevocationSource}, or the server's own `revocations` when both run in one process. */
  revocations?: RevocationSource;
  /** Minimum milliseconds between JWKS refetches triggered by an unknown `kid`. @default 30_000 */
  jwksCooldown?: number;
  /** Milliseconds before a JWKS or discovery request is abandoned. @default 5_000 */
  jwksTimeout?: number;
  /** Maximum milliseconds a fetched JWKS is used before it is fetched again. @default 600_000 */
  jwksMaxAge?: number;
  /** `Retry-After` seconds of 503 answers. @default 5 */
  retryAfter?: number;
  /** Clock (tests freeze it). @default () => new Date() */
  now?: () => Date;
}

/**
 * Verifies Gatehouse access tokens; create one per API with {@link createAccessTokenVerifier}.
 *
 * @example
 * ```ts
 * await verifier.ready(); // revocations loaded
 * const auth = await verifier.verify(token);
 * process.once('SIGTERM', () => verifier.close());
 * ```
 */
export interface AccessTokenVerifier {
  readonly issuer: string;
  readonly audience: string;
  readonly realm: string;
  /** The DPoP mode (see {@link AccessTokenVerifierOptions.dpop}). */
  readonly dpop: DpopMode;
  /** What error challenges offer (realm, schemes, DPoP algorithms): pass it to errors you create. */
  readonly challenge: AuthChallenge;
  /**
   * Verifies `token` (and, with `presentation.scheme` `DPoP`, its proof) and returns who it speaks for.
   * @throws {InvalidTokenError} the token is unacceptable (401).
   * @throws {InvalidDpopProofError} the DPoP proof is missing or unacceptable, or a bound token came as Bearer (401).
   * @throws {UseDpopNonceError} the proof needs this API's nonce (401 with `DPoP-Nonce`).
   * @throws {TemporarilyUnavailableError} keys, revocations or the replay store cannot be reached (503).
   */
  verify(token: string, presentation?: TokenPresentation): Promise<VerifiedAccessToken>;
  /**
   * The DPoP nonce proofs should carry now when `dpopNonce` is set (else `undefined`): send it as `DPoP-Nonce`
   * on answers to DPoP requests so clients switch before theirs expires (RFC 9449 §9).
   */
  currentDpopNonce(): string | undefined;
  /** Resolves once the initial revocation list is loaded (immediately without a revocation source). */
  ready(): Promise<void>;
  /** Unsubscribes from the revocation source. */
  close(): void;
}

interface CacheEntry {
  result: VerifiedAccessToken;
  exp: number;
}

// RFC 7515 §7.1 compact serialization: three base64url segments.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
// RFC 9068 §2.2 requires these; jose accepts a JWT without `exp` unless told (`requiredClaims`).
const REQUIRED_CLAIMS = ['exp', 'iat', 'sub', 'client_id', 'jti'];

function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'typ') return 'not an access token (typ must be at+jwt)';
    if (err.reason === 'missing') return `missing ${err.claim} claim`;
    if (err.claim === 'nbf') return 'token not yet valid';
    return `invalid ${err.claim} claim`;
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no matching key';
  if (err instanceof errors.JWKSMultipleMatchingKeys) return 'ambiguous key';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature verification failed';
  return 'malformed token';
}

/** Errors of the remote key set that are a verdict on the token, not a failure to load keys. */
function isKeyVerdict(err: unknown): boolean {
  return (
    err instanceof errors.JWKSNoMatchingKey ||
    err instanceof errors.JWKSMultipleMatchingKeys ||
    err instanceof errors.JOSEAlgNotAllowed ||
    err instanceof errors.JOSENotSupported
  );
}

/**
 * Creates a verifier of JWT access tokens (RFC 9068) issued by a Gatehouse server: `typ` `at+jwt`,
 * exact `iss`, our `aud`, an asymmetric algorithm allow-list, required claims, keys from the issuer's
 * JWKS (an unknown `kid` refetches once, respecting a cooldown), results cached until `exp`, and
 * revoked grants or tokens refused.
 *
 * @example
 * ```ts
 * const verifier = createAccessTokenVerifier({
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://api.example.com',
 * });
 * const { sub, scopes } = await verifier.verify(token);
 * ```
 */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const { issuer, audience } = options;
  const realm = options.realm ?? audience;
  const algorithms = [...(options.algorithms ?? ['ES256', 'EdDSA'])];
  for (const alg of algorithms) {
    // RFC 8725 §2.1/§3.1: `none` and symmetric algorithms never belong on a resource server.
    if (!ASYMMETRIC.has(alg)) throw new TypeError(`algorithm ${alg} is not an allowed asymmetric algorithm`);
  }
  if (algorithms.length === 0) throw new TypeError('algorithms must not be empty');
  const clockTolerance = options.clockTolerance ?? 5;
  const maxTokenLength = options.maxTokenLength ?? 8192;
  const retryAfter = options.retryAfter ?? 5;
  const timeout = options.jwksTimeout ?? 5_000;
  const now = options.now ?? (() => new Date());
  const nowSeconds = () => Math.floor(now().getTime() / 1000);
  const cache =
    options.cache === false
      ? undefined
      : new LRUCache<string, CacheEntry>({ max: options.cache?.max ?? 10_000 });

  const unavailable = (description: string, cause: unknown) =>
    new TemporarilyUnavailableError(realm, retryAfter, description, { cause });

  const jwksMaxAge = options.jwksMaxAge ?? 600_000;
  // jose replaces what this holds on every successful JWKS fetch: how the key cache knows its keys are current.
  const jwksState: JWKSCacheInput = {};
  const nodeKeys = new NodeKeyCache(jwksState, jwksMaxAge);
  const jwsParser = new NodeJwsParser(algorithms);
  let remote: Promise<RemoteJWKSet> | undefined;
  const remoteKeySet = (): Promise<RemoteJWKSet> => {
    if (remote === undefined) {
      const pending = (async () => {
        const url =
          options.jwksUri === undefined
            ? await discoverJwksUri(issuer, { timeout })
            : new URL(options.jwksUri);
        return createRemoteJWKSet(url, {
          cooldownDuration: options.jwksCooldown ?? 30_000,
          timeoutDuration: timeout,
          cacheMaxAge: jwksMaxAge,
          [jwksCache]: jwksState,
        });
      })();
      // A failed discovery is retried by the next request rather than remembered.
      pending.catch(() => {
        if (remote === pending) remote = undefined;
      });
      remote = pending;
    }
    return remote;
  };

  const getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    let keySet: RemoteJWKSet;
    try {
      keySet = await remoteKeySet();
    } catch (err) {
      throw unavailable('issuer metadata unavailable', err);
    }
    try {
      return await keySet(header, token);
    } catch (err) {
      if (isKeyVerdict(err)) throw err;
      // The JWKS could not be (re)loaded. Keys we already had still verify what they signed
      // (stale-if-error); anything else can be neither accepted nor rejected: 503.
      const stale = keySet.jwks();
      if (stale !== undefined) {
        try {
          return await createLocalJWKSet(stale)(header, token);
        } catch {}
      }
      throw unavailable('issuer keys unavailable', err);
    }
  };

  const revoked = new RevocationList(clockTolerance);
  const onRevocation = (event: RevocationEvent) => {
    revoked.add(event, nowSeconds());
    if (!cache) return;
    // Revocations are rare next to verifications; a scan of the bounded cache keeps no second index.
    const drop: string[] = [];
    for (const [key, entry] of cache.entries()) if (entry.result.claims.gid === event.id) drop.push(key);
    for (const key of drop) cache.delete(key);
  };
  const unsubscribe = options.revocations?.subscribe(onRevocation);
  let initialRevocations: Promise<void> | undefined;
  // Once loaded, verifications skip the await on the (settled) load.
  let revocationsLoaded = options.revocations?.list === undefined;
  const loadRevocations = (): Promise<void> => {
    const source = options.revocations;
    if (source?.list === undefined) return Promise.resolve();
    if (initialRevocations === undefined) {
      const pending = source.list().then((events) => {
        for (const event of events) onRevocation(event);
        revocationsLoaded = true;
      });
      // Not loaded: the next verification tries again (and answers 503 meanwhile).
      pending.catch(() => {
        if (initialRevocations === pending) initialRevocations = undefined;
      });
      initialRevocations = pending;
    }
    return initialRevocations;
  };
  loadRevocations().catch(() => {});

  const assertNotRevoked = (claims: AccessTokenClaims) => {
    if (revoked.isRevoked(claims)) throw new InvalidTokenError(realm, 'token revoked');
  };

  const joseChecks = {
    issuer,
    audience,
    // RFC 9068 §4: resource servers MUST check typ is at+jwt (jose also accepts application/at+jwt).
    typ: 'at+jwt',
    requiredClaims: REQUIRED_CLAIMS,
    clockTolerance,
    algorithms,
  };
  const nodeChecks = claimChecks(joseChecks);

  /**
   * The KeyObject node:crypto checks `jws` with, resolved by jose's key set; remembered per algorithm
   * and `kid` when the key set did not change meanwhile (a refetch, a stale set kept through an outage).
   */
  const resolveNodeKey = async (jws: NodeJws): Promise<KeyObject | undefined> => {
    const before = nodeKeys.current();
    const { token, firstDot, secondDot } = jws;
    const resolved = await getKey(jws.header, {
      protected: token.slice(0, firstDot),
      payload: token.slice(firstDot + 1, secondDot),
      signature: token.slice(secondDot + 1),
    });
    const key = nodeVerificationKey(jws.alg, resolved);
    const after = nodeKeys.current();
    if (key !== undefined && after !== undefined && after === before)
      nodeKeys.set(jws.alg, jws.kid, key, after);
    return key;
  };

  const verifySignedToken = async (token: string): Promise<VerifiedAccessToken> => {
    const currentDate = now();
    // ES256 and EdDSA signatures go through node:crypto (synchronous, no WebCrypto job) with a key
    // jose resolved, the claims through the same checks jose makes; anything else through jwtVerify.
    const jws = jwsParser.parse(token);
    let key = jws === undefined ? undefined : nodeKeys.get(jws.alg, jws.kid);
    if (jws !== undefined && key === undefined) key = await resolveNodeKey(jws);
    let payload: JWTPayload;
    if (jws !== undefined && key !== undefined) {
      payload = verifyNodeJws(jws, key);
      validateClaims(jws.header, payload, nodeChecks, Math.floor(currentDate.getTime() / 1000));
    } else {
      payload = (await jwtVerify(token, getKey, { ...joseChecks, currentDate })).payload;
    }
    const { sub, client_id: clientId, jti, iat, scope, gid } = payload;
    if (typeof sub !== 'string' || sub === '') throw new InvalidTokenError(realm, 'invalid sub claim');
    if (typeof clientId !== 'string' || clientId === '')
      throw new InvalidTokenError(realm, 'invalid client_id claim');
    if (typeof jti !== 'string' || jti === '') throw new InvalidTokenError(realm, 'invalid jti claim');
    if (scope !== undefined && typeof scope !== 'string')
      throw new InvalidTokenError(realm, 'invalid scope claim');
    if (gid !== undefined && typeof gid !== 'string') throw new InvalidTokenError(realm, 'invalid gid claim');
    const { cnf } = payload;
    if (
      cnf !== undefined &&
      (typeof cnf !== 'object' ||
        cnf === null ||
        ('jkt' in cnf && (typeof cnf.jkt !== 'string' || cnf.jkt === '')))
    ) {
      throw new InvalidTokenError(realm, 'invalid cnf claim');
    }
    // jose checks `iat` only together with maxTokenAge; a token from the future is refused here.
    if (typeof iat === 'number' && iat > currentDate.getTime() / 1000 + clockTolerance) {
      throw new InvalidTokenError(realm, 'token issued in the future');
    }
    // Checked by jwtVerify through requiredClaims, issuer and audience.
    const claims = payload as AccessTokenClaims;
    // Frozen: a cached result is shared by every request that presents the same token.
    return Object.freeze({
      sub,
      clientId,
      scopes: Object.freeze(typeof scope === 'string' ? scope.split(' ').filter(Boolean) : []) as string[],
      claims: Object.freeze(claims),
    });
  };

  const dpop = createDpopBinding({ ...options, realm, retryAfter, asymmetric: ASYMMETRIC });
  const { challenge } = dpop;

  /**
   * The verified result for `token`: at once from the cache when it holds the token unexpired (a
   * cached token was checked in full before, so its syntax is not checked again), else by
   * {@link verifyUncached}. The cache is keyed by the token itself: a JS string hash costs a fraction
   * of a SHA-256, and only verified tokens (at most maxTokenLength characters each, `max` of them)
   * are ever stored.
   */
  const verifyToken = (token: string): VerifiedAccessToken | Promise<VerifiedAccessToken> => {
    if (token.length > maxTokenLength) throw new InvalidTokenError(realm, 'token too large');
    const hit = revocationsLoaded ? cache?.get(token) : undefined;
    if (hit) {
      if (hit.exp + clockTolerance > nowSeconds()) {
        assertNotRevoked(hit.result.claims);
        return hit.result;
      }
      cache?.delete(token);
    }
    return verifyUncached(token);
  };

  const verifyUncached = async (token: string): Promise<VerifiedAccessToken> => {
    if (!COMPACT_JWS.test(token)) throw new InvalidTokenError(realm, 'malformed token');
    if (!revocationsLoaded) {
      try {
        await loadRevocations();
      } catch (err) {
        throw unavailable('revocation list unavailable', err);
      }
    }
    let result: VerifiedAccessToken;
    try {
      result = await verifySignedToken(token);
    } catch (err) {
      if (err instanceof BearerError) throw err;
      throw new InvalidTokenError(realm, describe(err), { cause: err });
    }
    assertNotRevoked(result.claims);
    cache?.set(token, { result, exp: result.claims.exp });
    return result;
  };

  return {
    issuer,
    audience,
    realm,
    dpop: dpop.mode,
    challenge,
    ready: loadRevocations,
    close: () => unsubscribe?.(),
    currentDpopNonce: () => dpop.currentNonce(nowSeconds()),
    // One async frame on the way of a cached Bearer token (every request of a busy API): the cache and
    // a Bearer presentation are judged synchronously, and only what needs waiting is awaited.
    async verify(token, presentation) {
      try {
        const result = await verifyToken(token);
        const proofChecked = dpop.check(result, token, presentation, nowSeconds());
        if (proofChecked !== undefined) await proofChecked;
        return result;
      } catch (err) {
        // Every error names the schemes this API accepts, and carries its error in the scheme used.
        if (err instanceof BearerError)
          setChallenge(err, { ...challenge, scheme: presentation?.scheme ?? 'Bearer' });
        throw err;
      }
    },
  };
}
