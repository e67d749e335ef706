export { createAuthenticatedHttp, isInvalidTokenChallenge } from './authenticated-http.ts';
export { createGatehouseClient, type GatehouseClient, type GatehouseClientOptions } from './client.ts';
export { type Clock, systemClock } from './clock.ts';
export type { DeviceSignInOptions, DeviceUserCode } from './device-sign-in.ts';
export { type AuthorizationServerMetadata, discoverAuthorizationServer } from './discovery.ts';
export {
  GatehouseError,
  type GatehouseErrorBaseCode,
  type GatehouseErrorCode,
  InteractionRequiredError,
  NetworkError,
  OAuthError,
  type OAuthErrorFields,
  SessionExpiredError,
  TimeoutError,
} from './errors.ts';
export type { GatehouseEvents, GatehouseListener } from './events.ts';
export { calculatePkceCodeChallenge, generateRandomToken } from './pkce.ts';
export type { RedirectCallbackResult, SignInRedirectOptions } from './redirect-sign-in.ts';
export { inProcessLock, type RefreshLock, webLock } from './refresh-lock.ts';
export type { SignOutOptions, SignOutResult } from './sign-out.ts';
export { browserStorage } from './storage/browser-storage.ts';
export { hybridStorage } from './storage/hybrid-storage.ts';
export { type IndexedDbStorageOptions, indexedDbStorage } from './storage/indexed-db-storage.ts';
export { memoryStorage } from './storage/memory-storage.ts';
export type { TokenStorage } from './storage/token-storage.ts';
export {
  authorizationCodeGrantRequest,
  type ClientEndpoint,
  clientCredentialsGrantRequest,
  deviceAuthorizationRequest,
  deviceCodeGrantRequest,
  refreshTokenGrantRequest,
  revocationRequest,
} from './token-request.ts';
export {
  type DeviceAuthorizationResponse,
  processDeviceAuthorizationResponse,
  processRevocationResponse,
  processTokenResponse,
  type TokenEndpointResponse,
} from './token-response.ts';
export type { TokenSet } from './token-set.ts';
