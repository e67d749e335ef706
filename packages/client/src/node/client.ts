import { createClient, type GatehouseClient, type GatehouseClientOptions } from '../client.ts';
import type { ClientContext } from '../context.ts';
import { storedDpopKeys } from '../dpop/dpop-keys.ts';
import { NetworkError, OAuthError, TimeoutError } from '../errors.ts';
import { check, fail, grant, type Json, post, tokenSet } from '../protocol.ts';
import type { TokenSet } from '../token-set.ts';
import { isFileStorage } from './file-storage.ts';

/**
 * What to show the user during a device sign-in (RFC 8628 §3.3).
 *
 * @example
 * ```ts
 * const onUserCode = ({ userCode, verificationUri }: DeviceUserCode) =>
 *   console.log(`Open ${verificationUri} and enter ${userCode}`);
 * ```
 */
export interface DeviceUserCode {
  userCode: string;
  verificationUri: string;
  /** The URI with the code filled in, for a QR code or a clickable link. */
  verificationUriComplete: string | undefined;
  /** Seconds until the code expires. */
  expiresIn: number;
}

/**
 * Options of `signInWithDeviceCode()`.
 *
 * @example
 * ```ts
 * await auth.signInWithDeviceCode({ onUserCode: ({ userCode }) => console.log(userCode), signal: AbortSignal.timeout(300_000) });
 * ```
 */
export interface DeviceSignInOptions {
  onUserCode(code: DeviceUserCode): void | Promise<void>;
  /** Stops polling; the returned promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Overrides the client's `scope` for this sign-in. */
  scope?: string;
}

/**
 * A client with the flows for Node services and CLIs besides everything {@link GatehouseClient} does.
 *
 * @example
 * ```ts
 * const service: GatehouseNodeClient = createGatehouseClient({ issuer, clientId: 'demo-service', clientSecret });
 * await service.signInWithClientCredentials();
 * ```
 */
export interface GatehouseNodeClient extends GatehouseClient {
  /** RFC 8628 device authorization grant, for CLIs and devices without a browser. */
  signInWithDeviceCode(options: DeviceSignInOptions): Promise<TokenSet>;
  /** RFC 6749 §4.4 client credentials grant, for confidential services; renews itself the same way. */
  signInWithClientCredentials(options?: { scope?: string }): Promise<TokenSet>;
}

/** RFC 8628 §3.5: `slow_down` adds five seconds to the interval, for this and every later poll. */
const SLOW_DOWN_STEP_SECONDS = 5;

/** `setTimeout` as a promise that rejects with the signal's reason when it aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    signal?.throwIfAborted();
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The device authorization grant: show the code, then poll, honouring `interval` and `slow_down`.
 *
 * @example
 * ```ts
 * const tokens = await runDeviceSignIn(context, {
 *   onUserCode: ({ verificationUriComplete, userCode }) => console.log(verificationUriComplete ?? userCode),
 * });
 * ```
 */
export async function runDeviceSignIn(
  context: ClientContext,
  options: DeviceSignInOptions,
): Promise<TokenSet> {
  const { clock } = context;
  const scope = options.scope ?? context.scope;
  const device = deviceAuthorization(
    await post(context, 'device_authorization_endpoint', { scope }, context.resource),
  );
  const deadline = clock.now() + device.expires_in * 1000;
  await options.onUserCode({
    userCode: device.user_code,
    verificationUri: device.verification_uri,
    verificationUriComplete: device.verification_uri_complete,
    expiresIn: device.expires_in,
  });
  let interval = device.interval;
  for (;;) {
    await (clock.sleep
      ? clock.sleep(interval * 1000, options.signal)
      : sleep(interval * 1000, options.signal));
    if (clock.now() >= deadline)
      throw new TimeoutError('the device code expired before the user approved it');
    try {
      const response = await grant(context, {
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: device.device_code,
      });
      // RFC 6749 §5.1: a response without `scope` granted what was requested.
      const tokens = tokenSet(response, clock.now(), { scope }, 'refresh_token');
      await context.session.commit(tokens);
      return tokens;
    } catch (error) {
      // RFC 8628 §3.5: back off exponentially when the connection fails; the device code is still good.
      if (error instanceof NetworkError || error instanceof TimeoutError) interval *= 2;
      else if (error instanceof OAuthError && error.error === 'slow_down') interval += SLOW_DOWN_STEP_SECONDS;
      else if (!(error instanceof OAuthError && error.error === 'authorization_pending')) throw error;
    }
  }
}

/**
 * A validated device authorization response (RFC 8628 §3.2).
 *
 * @example
 * ```ts
 * const device: DeviceAuthorizationResponse = { device_code: 'dc', user_code: 'WDJB-MJHT',
 *   verification_uri: 'https://id.example.com/device', expires_in: 600 };
 * ```
 */
export interface DeviceAuthorizationResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete?: string;
  expires_in: number;
  /** Seconds between polls; RFC 8628 §3.2 defaults it to 5 when the server omits it. */
  interval?: number;
}

/** Validates a device authorization response (RFC 8628 §3.2); `interval` defaults to 5 seconds. */
export const deviceAuthorization = (body: Json): DeviceAuthorizationResponse & { interval: number } => ({
  interval: 5,
  ...check<DeviceAuthorizationResponse>(body, {
    device_code: 's',
    user_code: 's',
    verification_uri: 's',
    verification_uri_complete: 's?',
    expires_in: 'n',
    interval: 'n?',
  }),
});

/**
 * Creates a client with everything `createGatehouseClient` from `@gatehouse/client` offers, plus the device
 * flow (RFC 8628) for CLIs and the client credentials grant (RFC 6749 §4.4) for confidential services.
 *
 * @example
 * ```ts
 * import { createGatehouseClient, fileStorage } from '@gatehouse/client/node';
 *
 * const cli = createGatehouseClient({ issuer, clientId: 'demo-cli', scope: 'openid offline_access',
 *   storage: fileStorage(`${process.env.HOME}/.config/recipes/tokens.json`) });
 * await cli.signInWithDeviceCode({ onUserCode: ({ verificationUriComplete }) => console.log(verificationUriComplete) });
 * ```
 */
export function createGatehouseClient(options: GatehouseClientOptions): GatehouseNodeClient {
  // A refresh token kept in a file outlives the process; its DPoP key must too (in the same 0600 file).
  const { storage } = options;
  const [client, context] = createClient(
    options,
    storage && isFileStorage(storage) ? (name) => storedDpopKeys(storage, name) : undefined,
  );
  return {
    ...client,
    signInWithDeviceCode: (deviceOptions) => runDeviceSignIn(context, deviceOptions),
    async signInWithClientCredentials({ scope = options.scope } = {}) {
      if (options.clientSecret === undefined)
        fail('client credentials need a clientSecret', 'ERR_CONFIGURATION');
      const tokens = tokenSet(
        await grant(context, { grant_type: 'client_credentials', scope }, context.resource),
        context.clock.now(),
        undefined,
        'client_credentials',
      );
      await context.session.commit(tokens);
      return tokens;
    },
  };
}
