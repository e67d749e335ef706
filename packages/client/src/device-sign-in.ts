import { type ClientContext, clientEndpoint } from './client-context.ts';
import { NetworkError, OAuthError, TimeoutError } from './errors.ts';
import { deviceAuthorizationRequest, deviceCodeGrantRequest } from './token-request.ts';
import { processDeviceAuthorizationResponse, processTokenResponse } from './token-response.ts';
import { type TokenSet, tokenSetFromResponse } from './token-set.ts';

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

/** RFC 8628 §3.5: `slow_down` adds five seconds to the interval, for this and every later poll. */
const slowDownStepSeconds = 5;

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
  const deviceEndpoint = await clientEndpoint(context, 'device_authorization_endpoint');
  const tokenEndpoint = await clientEndpoint(context, 'token_endpoint');
  const scope = options.scope ?? context.scope;
  const device = await processDeviceAuthorizationResponse(
    await deviceAuthorizationRequest(deviceEndpoint, { scope, resource: context.resource }),
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
    await clock.sleep(interval * 1000, options.signal);
    if (clock.now() >= deadline)
      throw new TimeoutError('the device code expired before the user approved it');
    let response: Response;
    try {
      response = await deviceCodeGrantRequest(tokenEndpoint, { deviceCode: device.device_code });
    } catch (error) {
      // RFC 8628 §3.5: back off exponentially when the connection fails; the device code is still good.
      if (error instanceof NetworkError || error instanceof TimeoutError) {
        interval *= 2;
        continue;
      }
      throw error;
    }
    try {
      const body = await processTokenResponse(response);
      const tokens = tokenSetFromResponse(body, clock.now(), undefined, 'refresh_token');
      if (!body.scope && scope) tokens.scope = scope;
      await context.refresher.commit(tokens);
      return tokens;
    } catch (error) {
      if (error instanceof OAuthError && error.error === 'authorization_pending') continue;
      if (error instanceof OAuthError && error.error === 'slow_down') {
        interval += slowDownStepSeconds;
        continue;
      }
      throw error;
    }
  }
}
