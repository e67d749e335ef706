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
