import { createHash } from 'node:crypto';

/**
 * Redis keys of the account store. Every key starts with `gatehouse:account:`; the part in
 * `{…}` is the Redis Cluster hash tag. No command touches two keys, so the store needs no
 * cross-slot operation and works the same on a standalone Redis and on a Cluster:
 *
 * | key                                      | type   | holds                                        |
 * | ---------------------------------------- | ------ | -------------------------------------------- |
 * | `gatehouse:account:{<emailKey>}`         | hash   | the account record (see {@link AccountRecord}) |
 * | `gatehouse:account:id:{<sub>}`           | string | `<emailKey>` of the account with that `sub`  |
 * | `gatehouse:account:grants:{<sub>}`       | set    | ids of every Grant the account consented to  |
 * | `gatehouse:account:client-grant:{<sub>}` | hash   | client_id → id of the account's latest Grant |
 * | `gatehouse:account:token:{<tokenHash>}`  | string | JSON of a pending email token (verify/reset) |
 *
 * The two grant keys share the `{<sub>}` tag and are written together in one MULTI.
 * `<emailKey>` is the base64url SHA-256 of the normalized email: the record key *is* the
 * unique email index, so "create unless the email is taken" is one atomic single-key script,
 * and an email with `{` or `}` in it cannot break the hash tag. The `id` key is written once
 * at creation and never changes (emails cannot be changed), so reading it and then the record
 * needs no transaction. Email tokens are stored as the SHA-256 of the token sent by mail; a
 * reset token's JSON also holds a digest of the password hash it was issued for, and a reset
 * replaces the hash only while it is still that one (one compare-and-set script on the record).
 *
 * @see ./account-store.ts for the record fields.
 */
export function accountKey(emailKey: string): string {
  return `gatehouse:account:{${emailKey}}`;
}

export function accountIdKey(sub: string): string {
  return `gatehouse:account:id:{${sub}}`;
}

export function accountGrantsKey(sub: string): string {
  return `gatehouse:account:grants:{${sub}}`;
}

export function accountClientGrantKey(sub: string): string {
  return `gatehouse:account:client-grant:{${sub}}`;
}

export function emailTokenKey(tokenHash: string): string {
  return `gatehouse:account:token:{${tokenHash}}`;
}

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
