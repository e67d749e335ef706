// What the README and the TSDoc promise about the bindings' types, checked by the compiler: these assertions
// fail `pnpm typecheck` (tsc) when a promise breaks, and run as ordinary tests in vitest.
import type {
  AccessTokenTarget,
  AuthStatus,
  GatehouseClient,
  GatehouseClientError,
  GatehouseUser,
  RedirectCallbackResult,
  SignInRedirectOptions,
  SignOutOptions,
  SignOutResult,
} from '@gatehouse/client';
import type { ReactNode } from 'react';
import { describe, expectTypeOf, it } from 'vitest';
import {
  type AccessTokenState,
  type AuthState,
  GatehouseProvider,
  type GatehouseProviderProps,
  handleRedirectCallbackOnce,
  RequireAuth,
  type RequireAuthProps,
  useAccessToken,
  useAuth,
  useGatehouseClient,
} from '../src/index.ts';

describe('useAuth(): status, user, error, signIn, signOut', () => {
  it('returns the snapshot of the client with its actions', () => {
    expectTypeOf(useAuth).parameters.toEqualTypeOf<[]>();
    expectTypeOf(useAuth).returns.toEqualTypeOf<AuthState>();
    expectTypeOf<AuthState['status']>().toEqualTypeOf<AuthStatus>();
    expectTypeOf<AuthState['status']>().toEqualTypeOf<'loading' | 'signedOut' | 'signedIn' | 'expired'>();
    expectTypeOf<AuthState['user']>().toEqualTypeOf<GatehouseUser | undefined>();
    expectTypeOf<AuthState['error']>().toEqualTypeOf<GatehouseClientError | undefined>();
    expectTypeOf<AuthState['isAuthenticated']>().toEqualTypeOf<boolean>();
    expectTypeOf<AuthState['isLoading']>().toEqualTypeOf<boolean>();
    expectTypeOf<AuthState['signIn']>().toEqualTypeOf<(options?: SignInRedirectOptions) => Promise<void>>();
    expectTypeOf<AuthState['signOut']>().toEqualTypeOf<
      (options?: SignOutOptions) => Promise<SignOutResult>
    >();
  });

  it('an error narrows by its code, as the client documents', () => {
    const narrow = (state: AuthState) => (state.error?.code === 'ERR_OAUTH' ? state.error.error : undefined);
    expectTypeOf(narrow).returns.toEqualTypeOf<string | undefined>();
  });
});

describe('useAccessToken(options?): a token for the default API or another one', () => {
  it('takes an optional resource and scope and returns the token, the error and a getter', () => {
    expectTypeOf(useAccessToken).parameters.toEqualTypeOf<[options?: AccessTokenTarget | undefined]>();
    expectTypeOf<AccessTokenTarget>().toEqualTypeOf<{
      resource?: string | undefined;
      scope?: string | undefined;
    }>();
    expectTypeOf(useAccessToken).returns.toEqualTypeOf<AccessTokenState>();
    expectTypeOf<AccessTokenState['accessToken']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<AccessTokenState['error']>().toEqualTypeOf<GatehouseClientError | undefined>();
    expectTypeOf<AccessTokenState['getAccessToken']>().toEqualTypeOf<() => Promise<string>>();
  });
});

describe('the provider, the guard and the callback', () => {
  it('the provider takes the client; the hook gives it back', () => {
    expectTypeOf<GatehouseProviderProps['client']>().toEqualTypeOf<GatehouseClient>();
    expectTypeOf(GatehouseProvider).parameters.toEqualTypeOf<[GatehouseProviderProps]>();
    expectTypeOf(useGatehouseClient).returns.toEqualTypeOf<GatehouseClient>();
  });

  it('the guard renders React nodes and needs no prop', () => {
    expectTypeOf(RequireAuth).returns.toEqualTypeOf<ReactNode>();
    expectTypeOf<Record<string, never>>().toExtend<RequireAuthProps>();
    expectTypeOf<RequireAuthProps['onRedirectCallback']>().toEqualTypeOf<
      ((returnTo: string | undefined) => void) | undefined
    >();
    expectTypeOf(handleRedirectCallbackOnce).returns.toEqualTypeOf<Promise<RedirectCallbackResult>>();
  });
});
