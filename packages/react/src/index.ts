export { GatehouseProvider, type GatehouseProviderProps, useGatehouseClient } from './gatehouse-provider.ts';
export { handleRedirectCallbackOnce, isRedirectCallback } from './handle-redirect-callback-once.ts';
export { RequireAuth, type RequireAuthProps } from './require-auth.ts';
export { type AccessTokenState, useAccessToken } from './use-access-token.ts';
export { type AuthState, useAuth, useAuthSnapshot } from './use-auth.ts';
