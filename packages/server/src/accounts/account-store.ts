import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { AccountClaims, KoaContextWithOIDC, Account as OidcAccount } from 'oidc-provider';
import { BoundedMemo } from '../store/bounded-memo.ts';
import { currentReads } from '../store/read-ahead.ts';
import type { StoreBackend } from '../store/store-backend.ts';
import { createAccountBackend, type StoredAccount } from './account-backend.ts';
import { AccountError } from './account-error.ts';
import { emailKeyOf, tokenHashOf } from './email-digest.ts';
import { hashPassword, needsRehash, verifyPasswordHash } from './password.ts';
import { passwordProblem } from './password-policy.ts';

/** An account as the rest of the server sees it (never the password hash). */
export interface Account {
  /** The OIDC `sub`: random, stable, never reused. */
  readonly id: string;
  /** As typed at registration (trimmed); compared case-insensitively. */
  readonly email: string;
  readonly emailVerified: boolean;
  readonly name: string | undefined;
  readonly disabled: boolean;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Epoch seconds; sessions and tokens issued at or before it are no longer honoured. */
  readonly sessionsRevokedAt: number | undefined;
}

export interface NewAccount {
  email: string;
  password: string;
  name?: string | undefined;
  emailVerified?: boolean | undefined;
}

export type PasswordCheck =
  | { readonly ok: true; readonly account: Account }
  | { readonly ok: false; readonly reason: 'invalid_credentials' | 'disabled' };

export type EmailTokenPurpose = 'verify-email' | 'reset-password';

/** A sign-in whose account is being read; see {@link AccountStore.beginSignIn}. */
export interface PendingSignIn {
  /** {@link AccountStore.verifyPassword} on the account read when the sign-in began. */
  verifyPassword(password: string): Promise<PasswordCheck>;
}

/**
 * No RFC sets these: a verification link may wait a day in an inbox, while a reset link grants
 * the account to whoever holds it, so it lives 1 h.
 */
export const EMAIL_TOKEN_TTL_SECONDS: Readonly<Record<EmailTokenPurpose, number>> = {
  'verify-email': 24 * 60 * 60,
  'reset-password': 60 * 60,
};

/** The account store: records, passwords, email tokens and the per-account grant index. */
export interface AccountStore {
  /** Throws {@link AccountError} `email_taken`, `invalid_email` or `weak_password`. */
  create(input: NewAccount): Promise<Account>;
  findById(id: string): Promise<Account | undefined>;
  findByEmail(email: string): Promise<Account | undefined>;
  /**
   * Checks a sign-in. Unknown emails cost one argon2 verification too, so the answer time does
   * not tell whether an email is registered. A hash made with old parameters is replaced.
   */
  verifyPassword(email: string, password: string): Promise<PasswordCheck>;
  /**
   * {@link verifyPassword} in two steps: the account is read now, so that the read shares a
   * round trip with what the caller sends in the same tick (the sign-in's admission), and the
   * password is verified later, once the caller admitted the attempt. The read tells the caller
   * nothing; a sign-in that is never verified costs only the read.
   */
  beginSignIn(email: string): PendingSignIn;
  /** Throws {@link AccountError} `not_found`. Disabling also ends the account's sessions. */
  setDisabled(email: string, disabled: boolean): Promise<Account>;
  /**
   * Throws {@link AccountError} `not_found` or `weak_password`. Every outstanding reset link
   * of the account stops working (links are bound to the password hash they were issued for).
   */
  setPassword(email: string, password: string): Promise<Account>;
  /**
   * The password reset behind a reset link, in one compare-and-set: the link is used up, the
   * password replaced only while it is still the one the link was issued for, the address
   * marked verified (the link arrived in its mailbox) and every session and token issued
   * until now ended (see {@link revokeSessions}). `undefined` when the link is not valid (any
   * more); throws {@link AccountError} `weak_password` before using the link up, so the person
   * can try another password with it.
   */
  resetPassword(token: string, password: string): Promise<Account | undefined>;
  /**
   * Throws {@link AccountError} `not_found`. The first confirmation of the address also ends
   * every session and token issued until then, in the same write: until now the address was
   * only claimed, and whoever signed in on that claim must not stay signed in.
   */
  markEmailVerified(email: string): Promise<Account>;
  /**
   * Marks every session and token of the account issued until now as ended: `findAccount`
   * then answers `undefined` for them, which oidc-provider treats as "account gone" (refresh
   * and access tokens are refused, the session is not reused). Throws `not_found`.
   */
  revokeSessions(email: string): Promise<Account>;
  /**
   * Remembers that the account consented through `grantId` for `clientId`: the grant is
   * found again for the next sign-in of the account at that client (consent is remembered
   * across sessions) and listed for `users revoke`.
   */
  addGrant(accountId: string, grantId: string, clientId: string): Promise<void>;
  /** Every grant id recorded with {@link addGrant}; some may have expired since. */
  grantIds(accountId: string): Promise<string[]>;
  /** The latest grant id recorded for the account at `clientId`. */
  grantIdForClient(accountId: string, clientId: string): Promise<string | undefined>;
  forgetGrants(accountId: string, grantIds: readonly string[]): Promise<void>;
  /**
   * A new single-use token for an email link; only its hash is stored. A reset token is bound
   * to the account's current password hash: once the password changes, by any path, every
   * reset link issued before stops working. Throws {@link AccountError} `not_found`.
   */
  issueEmailToken(purpose: EmailTokenPurpose, accountId: string): Promise<string>;
  /** The account a still-valid token belongs to, without using the token up. */
  peekEmailToken(purpose: EmailTokenPurpose, token: string): Promise<Account | undefined>;
  /** Uses the token up (at most once, even when two requests race) and returns its account. */
  consumeEmailToken(purpose: EmailTokenPurpose, token: string): Promise<Account | undefined>;
  /**
   * Reads the account with this id now, for a {@link findById} or {@link findAccount} the caller
   * knows is coming (the token endpoint's, for the account of the code or refresh token it
   * redeems; the consent page's): that call takes this read instead of making its own, so the
   * read can share a round trip with others sent in the same tick. Only inside a request run by
   * `ReadAhead.run` (store/read-ahead.ts), and only for that request: a read is taken once, by
   * that request, and dropped with the request's other reads if nothing took it.
   */
  readAhead(id: string): void;
  /** oidc-provider's `findAccount`: `undefined` for unknown, disabled or revoked-session subjects. */
  findAccount(
    ctx: KoaContextWithOIDC | undefined,
    sub: string,
    token?: { iat?: number },
  ): Promise<OidcAccount | undefined>;
}

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_EMAIL_LENGTH = 254;
const MAX_NAME_LENGTH = 200;

function toStored(account: Account, passwordHash: string): StoredAccount {
  return {
    id: account.id,
    email: account.email,
    emailVerified: account.emailVerified ? '1' : '0',
    name: account.name ?? '',
    disabled: account.disabled ? '1' : '0',
    createdAt: String(account.createdAt),
    updatedAt: String(account.updatedAt),
    passwordHash,
  };
}

function fromStored(fields: StoredAccount): Account | undefined {
  const { id, email } = fields;
  if (id === undefined || email === undefined) return undefined;
  const revoked = Number(fields.sessionsRevokedAt);
  return {
    id,
    email,
    emailVerified: fields.emailVerified === '1',
    name: fields.name ? fields.name : undefined,
    disabled: fields.disabled === '1',
    createdAt: Number(fields.createdAt),
    updatedAt: Number(fields.updatedAt),
    sessionsRevokedAt: Number.isFinite(revoked) && revoked > 0 ? revoked : undefined,
  };
}

/** Accounts whose email key the store keeps per process: about 1 MB. */
const EMAIL_KEY_MEMO_SIZE = 10_000;

interface StoredToken {
  purpose: EmailTokenPurpose;
  accountId: string;
  /** Epoch milliseconds; checked against the clock, so tests can freeze time. */
  exp: number;
  /** Reset tokens: {@link credentialOf} the password hash when the link was sent. */
  credential?: string;
}

/**
 * What a reset link is bound to: a digest of the stored password hash. Every new hash has a
 * new salt, so any password change (even to the same password) gives a new value; the hash
 * itself is not copied into the token record.
 */
function credentialOf(passwordHash: string): string {
  return createHash('sha256').update(passwordHash).digest('base64url');
}

function parseToken(value: string | undefined, purpose: EmailTokenPurpose): StoredToken | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed = JSON.parse(value) as Partial<StoredToken>;
    if (
      parsed.purpose !== purpose ||
      typeof parsed.accountId !== 'string' ||
      typeof parsed.exp !== 'number'
    ) {
      return undefined;
    }
    return parsed.exp > Date.now() ? (parsed as StoredToken) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates the account store on Redis (standalone or Cluster) or in memory.
 *
 * @example
 * const accounts = createAccountStore({ kind: 'redis', conn });
 * await accounts.create({ email: 'ada@example.com', password: 'correct horse battery', emailVerified: true });
 * const check = await accounts.verifyPassword('ADA@example.com', 'correct horse battery'); // { ok: true, … }
 */
/** The key of an account's read made ahead, among its request's reads. */
const accountReadKey = (id: string) => `Account\0${id}`;

export function createAccountStore(target: StoreBackend): AccountStore {
  const backend = createAccountBackend(target);
  /**
   * Account id → email key, remembered after a read that proved it, so `findAccount` (every
   * token request, every sign-in step) reads the account record without first reading
   * `account:id:{<sub>}`. What is remembered is only where the record lives, never the record:
   * the record (disabled, sessions revoked, claims) is read from the store on every call, and
   * is served only while it still carries this id. The link itself is written once at creation
   * and never changed (emails cannot change), so a remembered key cannot go stale while the
   * account exists; an account record that disappears or is replaced by another account with the
   * same email (a new id) is then not found, exactly as without the memo, and the entry is
   * dropped. Bounded: when full, the entry remembered longest ago makes room.
   */
  const emailKeys = new BoundedMemo(EMAIL_KEY_MEMO_SIZE);
  let dummyHash: Promise<string> | undefined;

  async function readByEmail(email: string): Promise<{ account: Account; passwordHash: string } | undefined> {
    const emailKey = emailKeyOf(email);
    const fields = await backend.read(emailKey);
    const account = fields && fromStored(fields);
    if (!fields || !account) return undefined;
    // The record at this key carries its id: the sign-in's next steps look the account up by id.
    if (emailKeys.get(account.id) === undefined) emailKeys.set(account.id, emailKey);
    return { account, passwordHash: fields.passwordHash ?? '' };
  }

  async function readById(id: string): Promise<{ account: Account; passwordHash: string } | undefined> {
    const remembered = emailKeys.get(id);
    const emailKey = remembered ?? (await backend.emailKeyForId(id));
    if (emailKey === undefined) return undefined;
    const fields = await backend.read(emailKey);
    const account = fields && fromStored(fields);
    // A creation that lost the race for its email leaves an id key pointing at someone else.
    if (!fields || account?.id !== id) {
      emailKeys.delete(id);
      return undefined;
    }
    if (remembered === undefined) emailKeys.set(id, emailKey);
    return { account, passwordHash: fields.passwordHash ?? '' };
  }

  async function findById(id: string): Promise<Account | undefined> {
    const ahead = currentReads()?.take(accountReadKey(id)) as Promise<Account | undefined> | undefined;
    return ahead ?? (await readById(id))?.account;
  }

  /**
   * The account behind a stored email token, with its password hash; `undefined` when the
   * token is unknown, expired, of another purpose or, for a reset, issued for another password.
   */
  async function accountOfToken(
    purpose: EmailTokenPurpose,
    value: string | undefined,
  ): Promise<{ account: Account; passwordHash: string } | undefined> {
    const stored = parseToken(value, purpose);
    const found = stored && (await readById(stored.accountId));
    if (!stored || !found) return undefined;
    if (purpose === 'reset-password' && stored.credential !== credentialOf(found.passwordHash)) {
      return undefined;
    }
    return found;
  }

  async function change(email: string, fields: Record<string, string>): Promise<Account> {
    const updated = await backend.update(emailKeyOf(email), { ...fields, updatedAt: String(Date.now()) });
    const account = updated ? await readByEmail(email) : undefined;
    if (!account) throw new AccountError('not_found', 'No account has this email address.');
    return account.account;
  }

  /** The password check of a sign-in, on the account `read` found (read when it began). */
  async function checkPassword(
    email: string,
    password: string,
    read: Promise<{ account: Account; passwordHash: string } | undefined>,
  ): Promise<PasswordCheck> {
    const found = await read;
    if (!found) {
      dummyHash ??= hashPassword(randomBytes(16).toString('base64url'));
      await verifyPasswordHash(await dummyHash, password);
      return { ok: false, reason: 'invalid_credentials' };
    }
    if (!(await verifyPasswordHash(found.passwordHash, password))) {
      return { ok: false, reason: 'invalid_credentials' };
    }
    if (found.account.disabled) return { ok: false, reason: 'disabled' };
    if (needsRehash(found.passwordHash)) {
      // Only over the hash just verified: a reset that landed meanwhile must not be undone
      // by a hash of the old password. (The new hash also ends pending reset links.)
      const rehashed = await hashPassword(password);
      await backend.updateIf(emailKeyOf(email), 'passwordHash', found.passwordHash, {
        passwordHash: rehashed,
      });
    }
    return { ok: true, account: found.account };
  }

  const nowSeconds = () => Math.floor(Date.now() / 1000);

  const store: AccountStore = {
    async create({ email, password, name, emailVerified }) {
      const trimmed = email.normalize('NFC').trim();
      if (trimmed.length > MAX_EMAIL_LENGTH || !EMAIL_PATTERN.test(trimmed)) {
        throw new AccountError('invalid_email', 'Enter an email address like name@example.com.');
      }
      const problem = await passwordProblem(password, { email: trimmed });
      if (problem) throw new AccountError('weak_password', problem);
      const cleanName = name?.trim().slice(0, MAX_NAME_LENGTH);
      const now = Date.now();
      const account: Account = {
        id: randomUUID(),
        email: trimmed,
        emailVerified: emailVerified ?? false,
        name: cleanName ? cleanName : undefined,
        disabled: false,
        createdAt: now,
        updatedAt: now,
        sessionsRevokedAt: undefined,
      };
      const emailKey = emailKeyOf(trimmed);
      // The id link first: if the insert then loses, the link points at another record and
      // `findById` ignores it, so no order of failures leaves a half-created account.
      await backend.linkId(account.id, emailKey);
      const inserted = await backend.insert(emailKey, toStored(account, await hashPassword(password)));
      if (!inserted) {
        await backend.unlinkId(account.id);
        throw new AccountError('email_taken', 'An account with this email address already exists.');
      }
      return account;
    },

    findById,

    async findByEmail(email) {
      return (await readByEmail(email))?.account;
    },

    verifyPassword(email, password) {
      return store.beginSignIn(email).verifyPassword(password);
    },

    beginSignIn(email) {
      const read = readByEmail(email);
      // Observed at once: a sign-in refused before its password is verified never awaits it.
      read.catch(() => {});
      return { verifyPassword: (password) => checkPassword(email, password, read) };
    },

    setDisabled(email, disabled) {
      return change(email, {
        disabled: disabled ? '1' : '0',
        ...(disabled ? { sessionsRevokedAt: String(nowSeconds()) } : {}),
      });
    },

    async setPassword(email, password) {
      const problem = await passwordProblem(password, { email });
      if (problem) throw new AccountError('weak_password', problem);
      // Sessions stay: this is a change by someone already trusted with the account. The
      // reset link path is `resetPassword`, which ends them.
      return change(email, { passwordHash: await hashPassword(password) });
    },

    async resetPassword(token, password) {
      const pending = await accountOfToken('reset-password', await backend.peekToken(tokenHashOf(token)));
      if (!pending) return undefined;
      const problem = await passwordProblem(password, { email: pending.account.email });
      if (problem) throw new AccountError('weak_password', problem);
      const taken = await accountOfToken('reset-password', await backend.takeToken(tokenHashOf(token)));
      if (!taken) return undefined;
      const passwordHash = await hashPassword(password);
      const replaced = await backend.updateIf(
        emailKeyOf(taken.account.email),
        'passwordHash',
        taken.passwordHash,
        {
          passwordHash,
          emailVerified: '1',
          sessionsRevokedAt: String(nowSeconds()),
          updatedAt: String(Date.now()),
        },
      );
      return replaced ? findById(taken.account.id) : undefined;
    },

    async markEmailVerified(email) {
      const first = await backend.updateIf(emailKeyOf(email), 'emailVerified', '0', {
        emailVerified: '1',
        sessionsRevokedAt: String(nowSeconds()),
        updatedAt: String(Date.now()),
      });
      const account = first ? (await readByEmail(email))?.account : undefined;
      return account ?? change(email, { emailVerified: '1' });
    },

    revokeSessions(email) {
      return change(email, { sessionsRevokedAt: String(nowSeconds()) });
    },

    addGrant(accountId, grantId, clientId) {
      return backend.addGrant(accountId, grantId, clientId);
    },

    grantIdForClient(accountId, clientId) {
      return backend.grantForClient(accountId, clientId);
    },

    grantIds(accountId) {
      return backend.grants(accountId);
    },

    forgetGrants(accountId, grantIds) {
      return backend.removeGrants(accountId, grantIds);
    },

    async issueEmailToken(purpose, accountId) {
      const found = await readById(accountId);
      if (!found) throw new AccountError('not_found', 'No account has this id.');
      const token = randomBytes(32).toString('base64url');
      const ttl = EMAIL_TOKEN_TTL_SECONDS[purpose];
      const value: StoredToken = {
        purpose,
        accountId,
        exp: Date.now() + ttl * 1000,
        ...(purpose === 'reset-password' ? { credential: credentialOf(found.passwordHash) } : {}),
      };
      await backend.putToken(tokenHashOf(token), JSON.stringify(value), ttl);
      return token;
    },

    async peekEmailToken(purpose, token) {
      return (await accountOfToken(purpose, await backend.peekToken(tokenHashOf(token))))?.account;
    },

    async consumeEmailToken(purpose, token) {
      return (await accountOfToken(purpose, await backend.takeToken(tokenHashOf(token))))?.account;
    },

    readAhead(id) {
      const reads = currentReads();
      if (reads && !reads.over)
        reads.hold(
          accountReadKey(id),
          readById(id).then((found) => found?.account),
        );
    },

    async findAccount(ctx, sub, token) {
      const account = await findById(sub);
      if (!account || account.disabled) return undefined;
      const revokedAt = account.sessionsRevokedAt;
      if (revokedAt !== undefined) {
        // Tokens carry `iat`; a session its `loginTs`. Both in epoch seconds, and anything
        // from the revocation's own second counts as revoked (conservative by one second).
        if (typeof token?.iat === 'number' && token.iat <= revokedAt) return undefined;
        const loginTs = ctx?.oidc?.entities.Session?.loginTs;
        if (!token && typeof loginTs === 'number' && loginTs <= revokedAt) return undefined;
      }
      return {
        accountId: account.id,
        async claims(): Promise<AccountClaims> {
          // oidc-provider filters these by the granted scopes and claims (openid profile email).
          return {
            sub: account.id,
            email: account.email,
            email_verified: account.emailVerified,
            ...(account.name === undefined ? {} : { name: account.name }),
          };
        },
      };
    },
  };
  return store;
}
