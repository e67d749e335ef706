import { isCommonPassword } from './common-passwords.ts';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './password.ts';

/** Whose password it is: context-specific words the password must not be. */
export interface PasswordOwner {
  readonly email: string;
}

/** One to three characters over and over (`aaaaaaaaaaaa`, `abababababab`). */
const REPEATED = /^(.{1,3})\1+$/su;

function comparable(value: string): string {
  return value.normalize('NFC').trim().toLowerCase();
}

/**
 * Why a password is refused, in words a person can act on; `undefined` when it is acceptable.
 * The one password policy of Gatehouse, for sign-up, password reset and `users add`. It
 * follows NIST SP 800-63B §5.1.1.2: a length range (counted in Unicode code points, so an
 * emoji is one character as a person sees it), no composition rules, and a comparison with
 * values attackers try first: breached passwords, repetitive characters and the account's
 * own email address. Case is ignored in those comparisons.
 *
 * @example
 * await passwordProblem('short', { email: 'ada@example.com' }) // 'Use at least 12 characters.'
 * await passwordProblem('Qwerty123456', { email: 'ada@example.com' }) // 'This password is too common…'
 */
export async function passwordProblem(password: string, owner: PasswordOwner): Promise<string | undefined> {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `Use at least ${PASSWORD_MIN_LENGTH} characters.`;
  if (length > PASSWORD_MAX_LENGTH) return `Use at most ${PASSWORD_MAX_LENGTH} characters.`;
  const candidate = comparable(password);
  const email = comparable(owner.email);
  const localPart = email.slice(0, email.lastIndexOf('@'));
  if (candidate === email || candidate === localPart) {
    return 'Do not use your email address as your password: it is the first thing an attacker tries.';
  }
  if (REPEATED.test(candidate)) {
    return 'This password repeats the same few characters, which makes it easy to guess.';
  }
  if (await isCommonPassword(candidate)) {
    return 'This password is too common: it is on the lists of leaked passwords that attackers try first.';
  }
  return undefined;
}
