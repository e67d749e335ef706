/**
 * The tokens of one signed-in client, as the SDK keeps them.
 *
 * @example
 * ```ts
 * auth.on('tokensChanged', (tokens: TokenSet | undefined) => {
 *   console.log(tokens ? `valid until ${new Date(tokens.expiresAt ?? 0)}` : 'signed out');
 * });
 * ```
 */
export interface TokenSet {
  accessToken: string;
  /** Milliseconds since the epoch; `undefined` when the server sent no `expires_in`. */
  expiresAt?: number;
  /**
   * Milliseconds since the epoch when the token endpoint issued this access token; with `expiresAt` it gives
   * the token's lifetime, which bounds how early the SDK treats it as expired. `undefined` for tokens stored
   * by older versions.
   */
  issuedAt?: number;
  /** Granted scope (RFC 6749 §5.1: when the server omits it, the requested scope). */
  scope?: string;
  refreshToken?: string;
  idToken?: string;
  /** How the session renews itself: `refresh_token`, or `client_credentials` for service clients. */
  renewal?: 'refresh_token' | 'client_credentials';
  /**
   * Access tokens for other APIs or narrower scopes (`getAccessToken({ resource, scope })`), each obtained
   * with the one refresh token, keyed by target.
   */
  resources?: Record<string, ResourceToken>;
}

/**
 * One access token and what bounds it.
 *
 * @example
 * ```ts
 * const token: ResourceToken = { accessToken: 'eyJ…', expiresAt: Date.now() + 300_000 };
 * ```
 */
export interface ResourceToken {
  accessToken: string;
  /** Milliseconds since the epoch. */
  expiresAt?: number;
  issuedAt?: number;
  scope?: string;
}

/**
 * Which access token `getAccessToken()` and `auth.http` obtain: the client's default API (no target), or
 * another API the user consented to at sign-in (RFC 8707 `resource`), optionally with a narrower `scope`.
 *
 * @example
 * ```ts
 * const notesToken = await auth.getAccessToken({ resource: 'https://notes.example.com', scope: 'notes:read' });
 * ```
 */
export interface AccessTokenTarget {
  /** RFC 8707 §2: the API's resource indicator; one of the client's `resource` option. */
  resource?: string | undefined;
  /** Space-separated scopes, a subset of what the sign-in granted (RFC 6749 §6). */
  scope?: string | undefined;
}
