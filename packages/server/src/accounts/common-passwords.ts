import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './password.ts';

let loading: Promise<ReadonlySet<string>> | undefined;

/**
 * The common-password list of `@zxcvbn-ts/language-common` (about 49,000 passwords seen in
 * breaches, ranked by frequency), loaded on first use and kept. Only entries a length check
 * would let through are kept in the set, lower-cased: the rest are refused anyway. Loading
 * takes some 50 ms and about 2.4 MB of heap (the package module keeps its decompressed list).
 */
function commonPasswords(): Promise<ReadonlySet<string>> {
  loading ??= import('@zxcvbn-ts/language-common').then(({ dictionary }) => {
    const kept = new Set<string>();
    for (const entry of dictionary['passwords-common']) {
      const length = [...entry].length;
      if (length >= PASSWORD_MIN_LENGTH && length <= PASSWORD_MAX_LENGTH) kept.add(entry.toLowerCase());
    }
    return kept;
  });
  return loading;
}

/**
 * True when `password`, ignoring case, is on the shipped common-password list. No network:
 * NIST SP 800-63B §5.1.1.2 asks for a comparison with "passwords obtained from previous breach
 * corpuses", which a local list does without telling anyone what was typed.
 *
 * @example
 * await isCommonPassword('QWERTY123456') // true
 */
export async function isCommonPassword(password: string): Promise<boolean> {
  return (await commonPasswords()).has(password.toLowerCase());
}
