// What the README and the TSDoc promise about the SDK's types, checked by the compiler: these
// assertions fail `pnpm typecheck` (tsc) when a promise breaks, and run as ordinary tests in vitest.
import { describe, expectTypeOf, it } from 'vitest';
import {
  createGatehouseClient,
  type GatehouseClient,
  type GatehouseClientError,
  type GatehouseClientOptions,
  GatehouseError,
  type GatehouseErrorBaseCode,
  type GatehouseErrorCode,
  type GatehouseEvents,
  InteractionRequiredError,
  type NetworkError,
  OAuthError,
  type RedirectCallbackResult,
  SessionExpiredError,
  type SignInRedirectOptions,
  type SignOutOptions,
  type SignOutResult,
  type TimeoutError,
  type TokenSet,
  type TokenStorage,
} from '../src/index.ts';
import {
  createGatehouseClient as createNodeClient,
  type DeviceSignInOptions,
  type DeviceUserCode,
  type GatehouseNodeClient,
} from '../src/node/index.ts';
import {
  handlePopupCallback,
  type SignInPopupOptions,
  type SignInSilentOptions,
  signInPopup,
  signInSilent,
} from '../src/popup/index.ts';

/** A caught value, typed as TypeScript types it in `catch (err)`. */
const caught = ((): unknown => new OAuthError({ error: 'invalid_grant', status: 400 }))();

describe('errors: "all extend GatehouseError and carry a code"', () => {
  it('each class carries its own code literal; a plain GatehouseError one of the base codes', () => {
    expectTypeOf<OAuthError['code']>().toEqualTypeOf<'ERR_OAUTH'>();
    expectTypeOf<SessionExpiredError['code']>().toEqualTypeOf<'ERR_SESSION_EXPIRED'>();
    expectTypeOf<InteractionRequiredError['code']>().toEqualTypeOf<'ERR_INTERACTION_REQUIRED'>();
    expectTypeOf<NetworkError['code']>().toEqualTypeOf<'ERR_NETWORK'>();
    expectTypeOf<TimeoutError['code']>().toEqualTypeOf<'ERR_TIMEOUT'>();
    expectTypeOf<GatehouseErrorBaseCode>().toEqualTypeOf<
      | 'ERR_INVALID_RESPONSE'
      | 'ERR_STATE_MISMATCH'
      | 'ERR_ISSUER_MISMATCH'
      | 'ERR_CONFIGURATION'
      | 'ERR_POPUP_BLOCKED'
      | 'ERR_POPUP_CLOSED'
      | 'ERR_DPOP_UNSUPPORTED'
    >();
    expectTypeOf<GatehouseClientError['code']>().toEqualTypeOf<GatehouseErrorCode>();
    expectTypeOf<
      OAuthError | SessionExpiredError | InteractionRequiredError | NetworkError | TimeoutError
    >().toExtend<GatehouseError>();
  });

  it('OAuthError has error, error_description and status; InteractionRequiredError error and error_description', () => {
    expectTypeOf<Pick<OAuthError, 'error' | 'error_description' | 'status'>>().toEqualTypeOf<{
      readonly error: string;
      readonly error_description: string | undefined;
      readonly status: number | undefined;
    }>();
    expectTypeOf<Pick<InteractionRequiredError, 'error' | 'error_description'>>().toEqualTypeOf<{
      readonly error: string;
      readonly error_description: string | undefined;
    }>();
  });

  it('`err instanceof GatehouseError` narrows a caught value to the union, and `switch (err.code)` to the class', () => {
    if (caught instanceof GatehouseError) {
      expectTypeOf(caught).toEqualTypeOf<GatehouseClientError>();
      switch (caught.code) {
        case 'ERR_OAUTH':
          expectTypeOf(caught).toEqualTypeOf<OAuthError>();
          expectTypeOf(caught.error).toBeString();
          break;
        case 'ERR_SESSION_EXPIRED':
          expectTypeOf(caught).toEqualTypeOf<SessionExpiredError>();
          break;
        case 'ERR_INTERACTION_REQUIRED':
          expectTypeOf(caught).toEqualTypeOf<InteractionRequiredError>();
          expectTypeOf(caught.error).toBeString();
          break;
        case 'ERR_NETWORK':
          expectTypeOf(caught).toEqualTypeOf<NetworkError>();
          break;
        case 'ERR_TIMEOUT':
          expectTypeOf(caught).toEqualTypeOf<TimeoutError>();
          break;
        case 'ERR_STATE_MISMATCH':
        case 'ERR_ISSUER_MISMATCH':
        case 'ERR_INVALID_RESPONSE':
        case 'ERR_CONFIGURATION':
          expectTypeOf(caught).toExtend<GatehouseError>();
          expectTypeOf(caught).not.toHaveProperty('error');
          break;
        case 'ERR_POPUP_BLOCKED':
        case 'ERR_POPUP_CLOSED':
          // `@gatehouse/client/popup`: a plain GatehouseError, no OAuth fields.
          expectTypeOf(caught).toEqualTypeOf<GatehouseError & { readonly code: GatehouseErrorBaseCode }>();
          expectTypeOf(caught.code).toEqualTypeOf<'ERR_POPUP_BLOCKED' | 'ERR_POPUP_CLOSED'>();
          expectTypeOf(caught).not.toHaveProperty('error');
          break;
        case 'ERR_DPOP_UNSUPPORTED':
          // `dpop: true` where WebCrypto or IndexedDB is missing: a plain GatehouseError.
          expectTypeOf(caught).toEqualTypeOf<GatehouseError & { readonly code: GatehouseErrorBaseCode }>();
          expectTypeOf(caught.code).toEqualTypeOf<'ERR_DPOP_UNSUPPORTED'>();
          break;
        default:
          // Exhaustive: every code is handled above.
          expectTypeOf(caught).toBeNever();
      }
    }
  });

  it('`instanceof` a subclass narrows to that subclass, also from another error type', () => {
    if (caught instanceof OAuthError) expectTypeOf(caught).toEqualTypeOf<OAuthError>();
    if (caught instanceof SessionExpiredError) expectTypeOf(caught).toEqualTypeOf<SessionExpiredError>();
    const error = new Error('x') as Error;
    if (error instanceof InteractionRequiredError) {
      expectTypeOf(error).toEqualTypeOf<InteractionRequiredError>();
    }
  });

  it('errors the SDK hands to listeners and results narrow the same way', () => {
    expectTypeOf<GatehouseEvents['refreshFailed']>().toEqualTypeOf<GatehouseClientError>();
    expectTypeOf<GatehouseEvents['sessionExpired']>().toEqualTypeOf<SessionExpiredError>();
    expectTypeOf<SignOutResult['revocationError']>().toEqualTypeOf<GatehouseClientError | undefined>();
  });
});

describe('the client: the README API table', () => {
  const auth = createGatehouseClient({ issuer: 'https://id.example.com', clientId: 'spa' });

  it('handleRedirectCallback resolves { tokens, returnTo }; signOut { revoked, revocationError }', () => {
    expectTypeOf(auth.handleRedirectCallback).returns.resolves.toEqualTypeOf<RedirectCallbackResult>();
    expectTypeOf<RedirectCallbackResult>().toEqualTypeOf<{
      tokens: TokenSet;
      returnTo: string | undefined;
    }>();
    expectTypeOf(auth.signOut).returns.resolves.toEqualTypeOf<SignOutResult>();
    expectTypeOf<SignOutResult['revoked']>().toBeBoolean();
  });

  it('getAccessToken resolves a string; getTokens a TokenSet or undefined', () => {
    expectTypeOf(auth.getAccessToken).returns.resolves.toBeString();
    expectTypeOf(auth.getTokens).returns.resolves.toEqualTypeOf<TokenSet | undefined>();
  });

  it('on() knows the six events and returns an unsubscribe function', () => {
    expectTypeOf<keyof GatehouseEvents>().toEqualTypeOf<
      'tokensChanged' | 'sessionExpired' | 'refreshFailed' | 'signedOut' | 'signInRequired' | 'userChanged'
    >();
    expectTypeOf(auth.on('signedOut', () => undefined)).toEqualTypeOf<() => void>();
    auth.on('tokensChanged', (tokens) => expectTypeOf(tokens).toEqualTypeOf<TokenSet | undefined>());
  });

  it('the browser entry has no device flow or client credentials; /node returns a GatehouseNodeClient with both', () => {
    expectTypeOf(auth).toEqualTypeOf<GatehouseClient>();
    expectTypeOf(auth).not.toHaveProperty('signInWithDeviceCode');
    expectTypeOf(auth).not.toHaveProperty('signInWithClientCredentials');
    const node = createNodeClient({ issuer: 'https://id.example.com', clientId: 'cli' });
    expectTypeOf(node).toEqualTypeOf<GatehouseNodeClient>();
    expectTypeOf(node).toExtend<GatehouseClient>();
    expectTypeOf(node.signInWithDeviceCode).parameter(0).toHaveProperty('onUserCode');
    expectTypeOf<Parameters<GatehouseNodeClient['signInWithDeviceCode']>[0]['onUserCode']>()
      .parameter(0)
      .toEqualTypeOf<DeviceUserCode>();
    expectTypeOf(node.signInWithClientCredentials).toBeFunction();
    auth.close();
    node.close();
  });

  it('the options and parameters the API table lists', () => {
    expectTypeOf<keyof GatehouseClientOptions>().toEqualTypeOf<
      // the contract
      | 'issuer'
      | 'clientId'
      | 'redirectUri'
      | 'scope'
      | 'resource'
      | 'storage'
      | 'clientSecret'
      | 'dpop' // the DPoP issue: `dpop: true`
      // "options beyond the contract"
      | 'postLogoutRedirectUri'
      | 'transactionStorage'
      | 'lock'
      | 'crossTab'
      | 'autoRefresh'
      | 'apiOrigins'
      | 'http'
      | 'requestTimeoutMs'
      | 'storageKey'
      | 'fetch'
      | 'clock'
    >();
    expectTypeOf<keyof SignInRedirectOptions>().toEqualTypeOf<
      'returnTo' | 'prompt' | 'loginHint' | 'scope' | 'redirectUri' | 'extraParams' | 'navigate'
    >();
    expectTypeOf<keyof SignInPopupOptions>().toEqualTypeOf<
      | 'returnTo'
      | 'prompt'
      | 'loginHint'
      | 'scope'
      | 'redirectUri'
      | 'extraParams'
      | 'popupFeatures'
      | 'timeoutMs'
    >();
    expectTypeOf<keyof SignInSilentOptions>().toEqualTypeOf<
      'redirectUri' | 'scope' | 'extraParams' | 'timeoutMs'
    >();
    expectTypeOf<keyof SignOutOptions>().toEqualTypeOf<'endSession' | 'postLogoutRedirectUri' | 'navigate'>();
    expectTypeOf<keyof DeviceSignInOptions>().toEqualTypeOf<'onUserCode' | 'signal' | 'scope'>();
    expectTypeOf<
      keyof NonNullable<Parameters<GatehouseNodeClient['signInWithClientCredentials']>[0]>
    >().toEqualTypeOf<'scope'>();
  });

  it('storage is any { get, set, remove } of strings returning promises', () => {
    expectTypeOf<TokenStorage>().toEqualTypeOf<{
      get(key: string): Promise<string | null | undefined>;
      set(key: string, value: string): Promise<void>;
      remove(key: string): Promise<void>;
    }>();
  });

  it('popup and silent sign-in take the client and resolve like handleRedirectCallback()', () => {
    expectTypeOf(signInPopup).toEqualTypeOf<
      (auth: GatehouseClient, options?: SignInPopupOptions) => Promise<RedirectCallbackResult>
    >();
    expectTypeOf(signInSilent).toEqualTypeOf<
      (auth: GatehouseClient, options?: SignInSilentOptions) => Promise<RedirectCallbackResult>
    >();
    expectTypeOf(handlePopupCallback).toEqualTypeOf<() => boolean>();
  });
});
