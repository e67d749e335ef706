export { type BearerTokenSources, extractBearerToken } from './bearer.ts';
export { discoverJwksUri } from './discovery.ts';
export {
  BearerError,
  type BearerErrorCode,
  bearerChallenge,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  MissingTokenError,
  TemporarilyUnavailableError,
} from './errors.ts';
export {
  parseRevocationEvent,
  REVOCATION_CHANNEL,
  REVOKED_KEY,
  type RedisRevocationSourceOptions,
  type RevocationEvent,
  type RevocationSource,
  redisRevocationSource,
} from './revocations.ts';
export { assertScopes } from './scopes.ts';
export {
  type AccessTokenAlgorithm,
  type AccessTokenClaims,
  type AccessTokenVerifier,
  type AccessTokenVerifierOptions,
  createAccessTokenVerifier,
  type VerifiedAccessToken,
} from './verifier.ts';
