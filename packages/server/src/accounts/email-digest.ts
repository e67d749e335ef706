import { createHash } from 'node:crypto';

/**
 * The digests under which the account store names its Redis keys (see `store/keys.ts`): the
 * email key makes the account record key the unique email index and keeps `{` or `}` in an
 * address from breaking the hash tag; the token hash keeps a token sent by mail out of Redis.
 */

/** Emails compare case-insensitively and without surrounding spaces. */
export function normalizeEmail(email: string): string {
  return email.normalize('NFC').trim().toLowerCase();
}

/** The stable, tag-safe identifier of a normalized email. */
export function emailKeyOf(email: string): string {
  return createHash('sha256').update(normalizeEmail(email)).digest('base64url');
}

/** The SHA-256 under which a token sent by email is stored; the token itself never is. */
export function tokenHashOf(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
