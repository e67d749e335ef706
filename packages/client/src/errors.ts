/**
 * Every error the SDK throws is a {@link GatehouseError} with a string `code`. `err instanceof GatehouseError`
 * narrows a caught `unknown` to {@link GatehouseClientError}, so one `switch (err.code)` narrows to the
 * concrete class.
 *
 * @example
 * ```ts
 * try {
 *   await auth.getAccessToken();
 * } catch (err) {
 *   if (err instanceof GatehouseError) {
 *     switch (err.code) {
 *       case 'ERR_SESSION_EXPIRED':
 *       case 'ERR_INTERACTION_REQUIRED':
 *         return auth.signInRedirect();
 *       case 'ERR_NETWORK':
 *       case 'ERR_TIMEOUT':
 *         return showOfflineBanner();
 *       case 'ERR_OAUTH':
 *         console.error(err.error, err.status); // err is an OAuthError here
 *     }
 *   }
 *   throw err;
 * }
 * ```
 */
export type GatehouseErrorCode =
  | 'ERR_OAUTH'
  | 'ERR_SESSION_EXPIRED'
  | 'ERR_INTERACTION_REQUIRED'
  | 'ERR_NETWORK'
  | 'ERR_TIMEOUT'
  | 'ERR_INVALID_RESPONSE'
  | 'ERR_STATE_MISMATCH'
  | 'ERR_ISSUER_MISMATCH'
  | 'ERR_CONFIGURATION'
  | 'ERR_POPUP_BLOCKED'
  | 'ERR_POPUP_CLOSED'
  | 'ERR_DPOP_UNSUPPORTED';

/**
 * Every error the SDK throws, as a union discriminated by `code`: each subclass has its own literal code, and
 * a plain {@link GatehouseError} one of {@link GatehouseErrorBaseCode}. `instanceof GatehouseError` narrows to
 * it; `switch (err.code)` then narrows to the class.
 *
 * @example
 * ```ts
 * auth.on('refreshFailed', (err: GatehouseClientError) => {
 *   if (err.code === 'ERR_OAUTH') console.warn(err.error); // an OAuthError
 * });
 * ```
 */
export type GatehouseClientError =
  | OAuthError
  | SessionExpiredError
  | InteractionRequiredError
  | NetworkError
  | TimeoutError
  | (GatehouseError & { readonly code: GatehouseErrorBaseCode });

/**
 * The type of `GatehouseError[Symbol.hasInstance]`: `x instanceof GatehouseError` narrows `x` to
 * {@link GatehouseClientError}, `x instanceof OAuthError` (any subclass) to that class. Type-only; at runtime the
 * default `Function.prototype[Symbol.hasInstance]` answers, so `instanceof` behaves as for any class. TypeScript
 * 5.3+ narrows with it; older compilers ignore it and narrow to the class as before.
 */
type GatehouseErrorInstanceCheck = <C extends abstract new (...args: never) => unknown>(
  this: C,
  value: unknown,
) => value is typeof GatehouseError extends C ? GatehouseClientError : InstanceType<C>;

/**
 * Codes carried by a plain {@link GatehouseError} (the subclasses carry their own).
 *
 * @example
 * ```ts
 * throw new GatehouseError('no redirectUri configured', { code: 'ERR_CONFIGURATION' });
 * ```
 */
export type GatehouseErrorBaseCode =
  | 'ERR_INVALID_RESPONSE'
  | 'ERR_STATE_MISMATCH'
  | 'ERR_ISSUER_MISMATCH'
  | 'ERR_CONFIGURATION'
  | 'ERR_POPUP_BLOCKED'
  | 'ERR_POPUP_CLOSED'
  | 'ERR_DPOP_UNSUPPORTED';

/** `error: description`, or the bare OAuth error code when there is no description. */
export const describeError = (error: string, description?: string | undefined): string =>
  description ? `${error}: ${description}` : error;

/**
 * Base class of every SDK error. Thrown directly for protocol violations the SDK detects itself:
 * `ERR_INVALID_RESPONSE` (a malformed server answer), `ERR_STATE_MISMATCH` (a callback that does not belong
 * to a sign-in this client started), `ERR_ISSUER_MISMATCH` (discovery or RFC 9207 `iss` names another server),
 * `ERR_CONFIGURATION` (an option missing for the requested operation), and from `@gatehouse/client/popup`
 * `ERR_POPUP_BLOCKED` (the browser refused to open the sign-in popup) and `ERR_POPUP_CLOSED` (the user closed
 * it before signing in), and with `dpop: true` `ERR_DPOP_UNSUPPORTED` (no WebCrypto, or no usable IndexedDB
 * in a browser, to keep the DPoP key).
 *
 * @example
 * ```ts
 * try {
 *   await auth.handleRedirectCallback();
 * } catch (err) {
 *   if (err instanceof GatehouseError && err.code === 'ERR_STATE_MISMATCH') location.replace('/');
 * }
 * ```
 */
export class GatehouseError extends Error {
  /** Set explicitly: bundlers rename classes, so a constructor's own name would not survive minification. */
  override readonly name: string = 'GatehouseError';
  declare readonly code: GatehouseErrorCode;
  declare static [Symbol.hasInstance]: GatehouseErrorInstanceCheck;

  constructor(message: string, options: { code?: GatehouseErrorBaseCode; cause?: unknown } = {}) {
    // Error reads only `cause` from the options, and sets it only when present.
    super(message, options);
    this.code = options.code ?? 'ERR_INVALID_RESPONSE';
  }
}

/**
 * The OAuth error fields an authorization server returns (RFC 6749 §5.2, §4.1.2.1).
 *
 * @example
 * ```ts
 * const fields: OAuthErrorFields = { error: 'invalid_grant', error_description: 'refresh token expired', status: 400 };
 * throw new OAuthError(fields);
 * ```
 */
export interface OAuthErrorFields {
  /** The OAuth `error` code, e.g. `invalid_grant`, `access_denied`. */
  error: string;
  /** Human-readable detail from the server, when it sent one. */
  error_description?: string | undefined;
  /** The HTTP status of the response; `undefined` for errors delivered in a redirect. */
  status?: number | undefined;
}

/**
 * An error the authorization server reported (RFC 6749 §5.2 token errors, §4.1.2.1 authorization errors,
 * RFC 8628 §3.5 device errors).
 *
 * @example
 * ```ts
 * try {
 *   await auth.signInWithClientCredentials();
 * } catch (err) {
 *   if (err instanceof OAuthError && err.error === 'invalid_client') console.error('check the client secret');
 * }
 * ```
 */
export class OAuthError extends GatehouseError {
  override readonly name: string = 'OAuthError';
  override readonly code = 'ERR_OAUTH' as const;
  declare readonly error: string;
  declare readonly error_description: string | undefined;
  declare readonly status: number | undefined;

  constructor(fields: OAuthErrorFields, options: { cause?: unknown } = {}) {
    super(describeError(fields.error, fields.error_description), options);
    this.error = fields.error;
    this.error_description = fields.error_description;
    this.status = fields.status;
  }
}

/**
 * The session is over: the server rejected the refresh token (`invalid_grant`: expired, revoked, or replayed).
 * The SDK has already cleared storage and emitted `sessionExpired`; sign in again.
 *
 * @example
 * ```ts
 * auth.on('sessionExpired', () => auth.signInRedirect());
 * try {
 *   await auth.http.get('https://api.example.com/me').json();
 * } catch (err) {
 *   if (err instanceof SessionExpiredError) return; // the listener above handles it
 *   throw err;
 * }
 * ```
 */
export class SessionExpiredError extends GatehouseError {
  override readonly name: string = 'SessionExpiredError';
  override readonly code = 'ERR_SESSION_EXPIRED' as const;
}

/**
 * The user has to interact with the authorization server: there is no session yet, or the server answered a
 * redirect with `login_required`, `consent_required`, `interaction_required` or `account_selection_required`
 * (OpenID Connect Core §3.1.2.6).
 *
 * @example
 * ```ts
 * try {
 *   await auth.getAccessToken();
 * } catch (err) {
 *   if (err instanceof InteractionRequiredError) await auth.signInRedirect();
 * }
 * ```
 */
export class InteractionRequiredError extends GatehouseError {
  override readonly name: string = 'InteractionRequiredError';
  override readonly code = 'ERR_INTERACTION_REQUIRED' as const;
  /** The OAuth error code, `login_required` when the client simply has no session. */
  declare readonly error: string;
  declare readonly error_description: string | undefined;

  constructor(error = 'login_required', errorDescription?: string, options: { cause?: unknown } = {}) {
    super(describeError(error, errorDescription), options);
    this.error = error;
    this.error_description = errorDescription;
  }
}

/**
 * A request did not get an HTTP response (DNS, connection refused, connection reset). For a refresh this is
 * ambiguous: the server may have rotated the token. The SDK keeps the refresh token and does not retry on its
 * own; the next call tries again.
 *
 * @example
 * ```ts
 * auth.on('refreshFailed', (err) => {
 *   if (err instanceof NetworkError) showOfflineBanner();
 * });
 * ```
 */
export class NetworkError extends GatehouseError {
  override readonly name: string = 'NetworkError';
  override readonly code = 'ERR_NETWORK' as const;
}

/**
 * A request, a lock wait or a device-code sign-in took longer than allowed.
 *
 * @example
 * ```ts
 * try {
 *   await auth.getAccessToken();
 * } catch (err) {
 *   if (err instanceof TimeoutError) retryLater();
 * }
 * ```
 */
export class TimeoutError extends GatehouseError {
  override readonly name: string = 'TimeoutError';
  override readonly code = 'ERR_TIMEOUT' as const;
}
