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
}

/**
 * The {@link TokenSet} a token endpoint response yields. Fields the server left out carry over from `previous`:
 * RFC 6749 §6 lets a server keep the refresh token, §5.1 lets it omit an unchanged scope.
 *
 * @example
 * ```ts
 * const next = tokenSetFromResponse(await processTokenResponse(response), Date.now(), current);
 * ```
 */
export function tokenSetFromResponse(
  response: {
    access_token: string;
    expires_in?: number;
    scope?: string;
    refresh_token?: string;
    id_token?: string;
  },
  now: number,
  previous?: TokenSet,
  renewal?: TokenSet['renewal'],
): TokenSet {
  const tokens: TokenSet = { accessToken: response.access_token };
  if (response.expires_in !== undefined) {
    tokens.expiresAt = now + response.expires_in * 1000;
    tokens.issuedAt = now;
  }
  const scope = response.scope ?? previous?.scope;
  if (scope !== undefined) tokens.scope = scope;
  const refreshToken = response.refresh_token ?? previous?.refreshToken;
  if (refreshToken !== undefined) tokens.refreshToken = refreshToken;
  const idToken = response.id_token ?? previous?.idToken;
  if (idToken !== undefined) tokens.idToken = idToken;
  const how = renewal ?? previous?.renewal ?? (refreshToken === undefined ? undefined : 'refresh_token');
  if (how !== undefined) tokens.renewal = how;
  return tokens;
}
