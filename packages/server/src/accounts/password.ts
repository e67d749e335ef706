import { availableParallelism } from 'node:os';
import { type Algorithm, hash, parseOptions, verify } from '@node-rs/argon2';

/**
 * Shortest and longest password accepted, checked on the server whatever the form says.
 * NIST SP 800-63B §5.1.1.2 asks for at least 8 and allows at least 64; the rest of the
 * policy is in `password-policy.ts`.
 */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

// `Algorithm` is an ambient const enum, which isolated modules cannot read; 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;

export interface PasswordHashParameters {
  readonly algorithm: Algorithm;
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

/**
 * OWASP Password Storage Cheat Sheet, argon2id option 2: m=19 MiB, t=2, p=1.
 * A stored hash with other parameters is replaced on the next successful sign-in.
 */
export const PASSWORD_HASH_PARAMETERS: PasswordHashParameters = Object.freeze({
  algorithm: ARGON2ID,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
});

/**
 * How many argon2id computations run at once; the others wait their turn in arrival order. One per CPU at most,
 * since more only share the cores (and their caches: each one works through `memoryCost`, 19 MiB), and always
 * fewer than the threads of libuv's pool (`UV_THREADPOOL_SIZE`, 4 by default), where they run: the pool also
 * signs tokens (WebCrypto), resolves names and reads files, and a burst of sign-ins must not make those wait
 * behind every queued hash.
 */
export const CONCURRENT_PASSWORD_HASHES = Math.max(
  1,
  Math.min(availableParallelism(), (Number(process.env.UV_THREADPOOL_SIZE) || 4) - 1),
);

/** Runs `task`s at most `limit` at a time, the others in arrival order. */
function concurrencyLimit(limit: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    // A finishing task hands its turn straight to the next waiter, so `running` counts turns, not promises.
    if (running < limit) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

const inTurn = concurrencyLimit(CONCURRENT_PASSWORD_HASHES);

/** Hashes a password with argon2id into a PHC string (`$argon2id$v=19$m=…`). */
export function hashPassword(
  password: string,
  parameters: PasswordHashParameters = PASSWORD_HASH_PARAMETERS,
): Promise<string> {
  return inTurn(() => hash(password, parameters));
}

/** Compares a password with a PHC hash; a malformed hash is a mismatch, never an exception. */
export async function verifyPasswordHash(phc: string, password: string): Promise<boolean> {
  try {
    return await inTurn(() => verify(phc, password));
  } catch {
    return false;
  }
}

/** True when `phc` was made with other parameters than `parameters` (then it is rehashed on sign-in). */
export function needsRehash(
  phc: string,
  parameters: PasswordHashParameters = PASSWORD_HASH_PARAMETERS,
): boolean {
  try {
    const used = parseOptions(phc);
    return (
      used.algorithm !== parameters.algorithm ||
      used.memoryCost !== parameters.memoryCost ||
      used.timeCost !== parameters.timeCost ||
      used.parallelism !== parameters.parallelism
    );
  } catch {
    return true;
  }
}
