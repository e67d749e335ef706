export type { AuthSnapshot, AuthStatus } from './auth-state.ts';
export type { ApiHttpError } from './authenticated-http.ts';
export { createGatehouseClient, type GatehouseClient, type GatehouseClientOptions } from './client.ts';
export { type Clock, systemClock } from './clock.ts';
export {
  type GatehouseClientError,
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
export type { GatehouseUser } from './id-token.ts';
export type { AuthorizationServerMetadata, TokenEndpointResponse } from './protocol.ts';
export type { RedirectCallbackResult, SignInRedirectOptions } from './redirect-sign-in.ts';
export { type RefreshLock, webLock } from './refresh-lock.ts';
export type { SignOutOptions, SignOutResult } from './sign-out.ts';
export { browserStorage } from './storage/browser-storage.ts';
export { hybridStorage } from './storage/hybrid-storage.ts';
export { type IndexedDbStorageOptions, indexedDbStorage } from './storage/indexed-db-storage.ts';
export { memoryStorage } from './storage/memory-storage.ts';
export type { TokenStorage } from './storage/token-storage.ts';
export type { AccessTokenTarget, ResourceToken, TokenSet } from './token-set.ts';
