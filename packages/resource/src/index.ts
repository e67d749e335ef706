export {
  type BearerTokenSources,
  extractAccessToken,
  extractBearerToken,
  type PresentedAccessToken,
} from './bearer.ts';
export { discoverJwksUri } from './discovery.ts';
export type { DpopNonceOptions } from './dpop-proof.ts';
export {
  type DpopReplayStore,
  type MemoryDpopReplayStoreOptions,
  memoryDpopReplayStore,
  type RedisDpopReplayStoreOptions,
  redisDpopReplayStore,
} from './dpop-replay.ts';
export {
  type AuthChallenge,
  BearerError,
  type BearerErrorCode,
  bearerChallenge,
  type DpopMode,
  dpopChallenge,
  InsufficientScopeError,
  InvalidDpopProofError,
  InvalidRequestError,
  InvalidTokenError,
  MissingTokenError,
  TemporarilyUnavailableError,
  UseDpopNonceError,
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
  type TokenPresentation,
  type VerifiedAccessToken,
} from './verifier.ts';
