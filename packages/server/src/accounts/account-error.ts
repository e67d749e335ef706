/** What went wrong with an account operation; `message` is safe to show to the person concerned. */
export type AccountErrorCode = 'email_taken' | 'invalid_email' | 'weak_password' | 'not_found';

/**
 * The one error the account store throws on purpose. Switch on `code`.
 *
 * @example
 * try { await accounts.create(input) } catch (err) {
 *   if (err instanceof AccountError && err.code === 'weak_password') showFieldError(err.message);
 * }
 */
export class AccountError extends Error {
  override name = 'AccountError';
  readonly code: AccountErrorCode;

  constructor(code: AccountErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
