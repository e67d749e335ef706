export {
  accountClientGrantKey,
  accountGrantsKey,
  accountIdKey,
  accountKey,
  emailTokenKey,
} from '../store/keys.ts';
export { AccountError, type AccountErrorCode } from './account-error.ts';
export {
  type Account,
  type AccountStore,
  createAccountStore,
  EMAIL_TOKEN_TTL_SECONDS,
  type EmailTokenPurpose,
  type NewAccount,
  type PasswordCheck,
  type PendingSignIn,
} from './account-store.ts';
export { isCommonPassword } from './common-passwords.ts';
export { normalizeEmail } from './email-digest.ts';
export { createMailer, type Mailer, type MailMessage } from './mailer.ts';
export { PASSWORD_HASH_PARAMETERS, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './password.ts';
export { type PasswordOwner, passwordProblem } from './password-policy.ts';
export {
  type RevokedAccountAccess,
  revokeAccountAccess,
  untilRevocationHasPassed,
} from './revoke-account.ts';
