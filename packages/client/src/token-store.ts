import type { TokenStorage } from './storage/token-storage.ts';
import type { TokenSet } from './token-set.ts';

/**
 * What a redirect sign-in remembers between `signInRedirect()` and `handleRedirectCallback()`.
 *
 * @example
 * ```ts
 * await store.saveTransaction(state, { codeVerifier, redirectUri, nonce, createdAt: Date.now() });
 * ```
 */
export interface SignInTransaction {
  codeVerifier: string;
  redirectUri: string;
  nonce?: string;
  returnTo?: string;
  createdAt: number;
}

/**
 * The result of reading storage: `ok: false` when storage itself failed, so callers can keep what they hold.
 *
 * @example
 * ```ts
 * const { ok, tokens } = await store.read();
 * if (!ok) console.warn('storage unavailable; using memory');
 * ```
 */
export interface StoredTokens {
  ok: boolean;
  tokens: TokenSet | undefined;
}

function parseObject(raw: string | null | undefined): Record<string, unknown> | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;
const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

/**
 * Reads and writes a client's {@link TokenSet} through a {@link TokenStorage}: the access token under
 * `<prefix>:access` and the rest under `<prefix>:session`, so `hybridStorage()` can keep the first in memory.
 * Everything read is validated; garbage reads as "no session" and never throws.
 *
 * @example
 * ```ts
 * const store = new TokenStore(memoryStorage(), 'gatehouse:demo-spa');
 * await store.write({ accessToken: 'at', expiresAt: Date.now() + 60_000 });
 * ```
 */
export class TokenStore {
  readonly #storage: TokenStorage;
  readonly #transactions: TokenStorage;
  readonly #prefix: string;

  constructor(storage: TokenStorage, prefix: string, transactions: TokenStorage = storage) {
    this.#storage = storage;
    this.#transactions = transactions;
    this.#prefix = prefix;
  }

  async read(): Promise<StoredTokens> {
    let accessRaw: string | null | undefined;
    let sessionRaw: string | null | undefined;
    try {
      [accessRaw, sessionRaw] = await Promise.all([
        this.#storage.get(`${this.#prefix}:access`),
        this.#storage.get(`${this.#prefix}:session`),
      ]);
    } catch {
      return { ok: false, tokens: undefined };
    }
    const access = parseObject(accessRaw);
    const session = parseObject(sessionRaw);
    const accessToken = str(access?.accessToken);
    const refreshToken = str(session?.refreshToken);
    if (!accessToken && !refreshToken) return { ok: true, tokens: undefined };
    // Without a stored access token (hybrid storage after a reload) the set is "already expired": the empty
    // token is never handed out because expiresAt 0 forces a refresh first.
    const tokens: TokenSet = accessToken
      ? {
          accessToken,
          ...optional('expiresAt', num(access?.expiresAt)),
          ...optional('issuedAt', num(access?.issuedAt)),
        }
      : { accessToken: '', expiresAt: 0 };
    const scope = str(access?.scope) ?? str(session?.scope);
    if (scope) tokens.scope = scope;
    if (refreshToken) tokens.refreshToken = refreshToken;
    const idToken = str(session?.idToken);
    if (idToken) tokens.idToken = idToken;
    const renewal = session?.renewal;
    if (renewal === 'refresh_token' || renewal === 'client_credentials') tokens.renewal = renewal;
    return { ok: true, tokens };
  }

  async write(tokens: TokenSet): Promise<void> {
    const { accessToken, expiresAt, issuedAt, scope, ...session } = tokens;
    // The refresh token first: if the second write fails, the next start refreshes instead of replaying.
    await this.#storage.set(`${this.#prefix}:session`, JSON.stringify({ ...session, scope }));
    await this.#storage.set(
      `${this.#prefix}:access`,
      JSON.stringify({ accessToken, expiresAt, issuedAt, scope }),
    );
  }

  async clear(): Promise<void> {
    await Promise.all([
      this.#storage.remove(`${this.#prefix}:access`),
      this.#storage.remove(`${this.#prefix}:session`),
    ]);
  }

  async saveTransaction(state: string, transaction: SignInTransaction): Promise<void> {
    await this.#transactions.set(`${this.#prefix}:txn:${state}`, JSON.stringify(transaction));
  }

  /** Reads and deletes a transaction: a callback URL can be redeemed once. */
  async takeTransaction(state: string): Promise<SignInTransaction | undefined> {
    const key = `${this.#prefix}:txn:${state}`;
    const raw = parseObject(await this.#transactions.get(key));
    await this.#transactions.remove(key);
    const codeVerifier = str(raw?.codeVerifier);
    const redirectUri = str(raw?.redirectUri);
    if (!raw || !codeVerifier || !redirectUri) return undefined;
    const transaction: SignInTransaction = { codeVerifier, redirectUri, createdAt: num(raw.createdAt) ?? 0 };
    const nonce = str(raw.nonce);
    if (nonce) transaction.nonce = nonce;
    const returnTo = str(raw.returnTo);
    if (returnTo) transaction.returnTo = returnTo;
    return transaction;
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
