/**
 * Why a signing-key operation failed. `switch (err.code)` narrows:
 * - `wrong_secret`: the stored keys do not decrypt with this `GATEHOUSE_SECRET`
 * - `corrupt`: the stored value decrypts (or parses) to something that is not a key set
 * - `contended`: other instances kept changing the keys; nothing was written
 * - `no_keys`: an operation that needs keys found none (run `ensureSigningKeys` first)
 */
export type SigningKeyErrorCode = 'wrong_secret' | 'corrupt' | 'contended' | 'no_keys';

/**
 * Thrown by the key store and lifecycle functions; `message` is one line for an operator.
 *
 * @example
 * try { await ensureSigningKeys(repo, secret) } catch (err) {
 *   if (err instanceof SigningKeyError && err.code === 'wrong_secret') process.exit(1);
 * }
 */
export class SigningKeyError extends Error {
  override name = 'SigningKeyError';
  readonly code: SigningKeyErrorCode;

  constructor(code: SigningKeyErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
