import type { Clock } from './clock.ts';
import { type CrossTabMessage, openCrossTabChannel } from './cross-tab.ts';
import { GatehouseError, InteractionRequiredError, OAuthError, SessionExpiredError } from './errors.ts';
import type { GatehouseEventEmitter } from './events.ts';
import type { RefreshLock } from './refresh-lock.ts';
import { processTokenResponse } from './token-response.ts';
import { type TokenSet, tokenSetFromResponse } from './token-set.ts';
import type { TokenStore } from './token-store.ts';

/**
 * What the refresher needs from its client.
 *
 * @example
 * ```ts
 * const options: TokenRefresherOptions = { store, lock: webLock(), lockName: 'gatehouse-refresh:demo', clock: systemClock,
 *   events, renew, crossTabChannel: undefined, autoRefresh: true, expiryMarginMs: 10_000 };
 * ```
 */
export interface TokenRefresherOptions {
  store: TokenStore;
  /** Cross-client exclusion (Web Locks in browsers); `undefined`: the in-flight promise is the only guard. */
  lock: RefreshLock | undefined;
  lockName: string;
  clock: Clock;
  events: GatehouseEventEmitter;
  /** Sends the renewal request (refresh token or client credentials grant) for these tokens. */
  renew(tokens: TokenSet): Promise<Response>;
  /** BroadcastChannel name to share tokens between tabs; `undefined` disables it. */
  crossTabChannel: string | undefined;
  /** Refresh shortly before expiry and on `visibilitychange`/`online`. */
  autoRefresh: boolean;
  /**
   * A token that expires within this many milliseconds, or within a quarter of its lifetime if that is less,
   * is treated as expired.
   */
  expiryMarginMs: number;
}

type Timer = ReturnType<typeof setTimeout>;

/**
 * How long a tab holding the refresh lock waits for another tab's broadcast of tokens it already sees in
 * storage. A BroadcastChannel message takes milliseconds; the bound only matters for peers that never send.
 */
const CROSS_TAB_DELIVERY_MS = 2_000;

/**
 * Owns a client's tokens and the one path by which they are renewed: memory → one in-flight promise →
 * lock → re-read storage (another tab may have refreshed) → renew → store → tell other tabs. Concurrent callers
 * share a single renewal; a renewal is never retried on its own.
 *
 * @example
 * ```ts
 * const refresher = new TokenRefresher({ store, lock: webLock(), lockName, clock: systemClock, events, renew,
 *   crossTabChannel: 'gatehouse:demo-spa', autoRefresh: true, expiryMarginMs: 10_000 });
 * const token = await refresher.getAccessToken();
 * ```
 */
export class TokenRefresher {
  readonly #options: TokenRefresherOptions;
  readonly #loaded: Promise<void>;
  readonly #channel: ReturnType<typeof openCrossTabChannel>;
  readonly #detach: () => void;
  #current: TokenSet | undefined;
  #inflight: Promise<TokenSet> | undefined;
  #timer: Timer | undefined;
  /** Bumped whenever the session ends, so a renewal that was in flight cannot resurrect it. */
  #epoch = 0;
  #closed = false;
  /** Waiters for tokens another tab broadcasts (see `#crossTabTokens`). */
  readonly #arrivals = new Set<(tokens: TokenSet | undefined) => void>();

  constructor(options: TokenRefresherOptions) {
    this.#options = options;
    this.#channel = options.crossTabChannel
      ? openCrossTabChannel(options.crossTabChannel, (message) => this.#onCrossTabMessage(message))
      : undefined;
    this.#detach = this.#attachBrowserTriggers();
    this.#loaded = this.#load();
  }

  /** Tokens as currently known in memory (after start-up has read storage). */
  async tokens(): Promise<TokenSet | undefined> {
    await this.#loaded;
    return this.#current;
  }

  /** The in-memory access token right now, without waiting; for comparing against a token that just failed. */
  currentAccessToken(): string | undefined {
    return this.#current?.accessToken || undefined;
  }

  /**
   * A valid access token: from memory when fresh, else from the single shared renewal.
   * @throws {InteractionRequiredError} when there is no session
   * @throws {SessionExpiredError} when the server rejects the refresh token
   */
  async getAccessToken(): Promise<string> {
    await this.#loaded;
    const current = this.#current;
    if (current && this.#isFresh(current)) return current.accessToken;
    return (await this.refresh(current?.accessToken)).accessToken;
  }

  /**
   * Obtains a token other than `staleAccessToken` (the one that expired or was rejected). Joins the renewal in
   * flight if there is one; under the lock adopts a fresh token another client stored meanwhile instead of
   * renewing again.
   */
  refresh(staleAccessToken?: string): Promise<TokenSet> {
    this.#inflight ??= this.#refreshOnce(staleAccessToken).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  /** Waits for a renewal in flight, if any, ignoring its outcome. */
  async settled(): Promise<void> {
    await this.#inflight?.catch(() => undefined);
  }

  /** Makes `tokens` the session: memory, storage, other tabs, listeners, the proactive timer. */
  async commit(tokens: TokenSet): Promise<void> {
    this.#current = tokens;
    try {
      await this.#options.store.write(tokens);
    } catch {
      // Memory still holds the tokens; a storage that refuses writes must not fail a sign-in or refresh.
    }
    this.#channel?.post({ type: 'tokens', tokens });
    this.#options.events.emit('tokensChanged', tokens);
    this.#schedule();
  }

  /** Ends the session locally: memory, storage, other tabs, timer. Listeners get `tokensChanged(undefined)`. */
  async clear(reason: 'signedOut' | 'sessionExpired'): Promise<void> {
    this.#epoch++;
    this.#current = undefined;
    clearTimeout(this.#timer);
    try {
      await this.#options.store.clear();
    } catch {
      // Nothing better to do: memory is cleared, and stale storage is validated again on the next read.
    }
    this.#channel?.post({ type: 'cleared', reason });
    this.#options.events.emit('tokensChanged', undefined);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const arrived of [...this.#arrivals]) arrived(undefined);
    this.#channel?.close();
    this.#detach();
  }

  async #load(): Promise<void> {
    const { tokens } = await this.#options.store.read();
    // A sign-in that finished while storage was being read wins over what storage held.
    if (this.#current === undefined && this.#epoch === 0) this.#current = tokens;
    this.#schedule();
  }

  /**
   * Whether `tokens` holds an access token worth sending: it expires later than `capMs` from now, or than a
   * quarter of its lifetime if that is less. The quarter keeps short-lived tokens usable: with a fixed 10 s
   * margin a token that lives 10 s would count as expired at once and every call would refresh.
   */
  #isFresh(tokens: TokenSet, capMs = this.#options.expiryMarginMs): boolean {
    if (!tokens.accessToken) return false;
    if (tokens.expiresAt === undefined) return true;
    const lifetime =
      tokens.issuedAt === undefined ? Number.POSITIVE_INFINITY : tokens.expiresAt - tokens.issuedAt;
    const margin = Math.min(capMs, Math.max(0, lifetime) / 4);
    return tokens.expiresAt - this.#options.clock.now() > margin;
  }

  async #refreshOnce(staleAccessToken: string | undefined): Promise<TokenSet> {
    const epoch = this.#epoch;
    const { lock, lockName } = this.#options;
    const run = () => this.#refreshExclusive(staleAccessToken, epoch);
    return lock ? lock.run(lockName, run) : run();
  }

  async #refreshExclusive(staleAccessToken: string | undefined, epoch: number): Promise<TokenSet> {
    const { store, events, clock } = this.#options;
    // Another tab may have renewed while we waited for the lock, and its broadcast already arrived.
    const known = this.#current;
    if (known && known.accessToken !== staleAccessToken && this.#isFresh(known)) return known;
    const stored = await store.read();
    // ...or it arrived while storage was being read.
    const adopted = this.#current;
    if (adopted && adopted.accessToken !== staleAccessToken && this.#isFresh(adopted)) return adopted;
    // Storage is the truth shared with other tabs and instances; fall back to memory only if it failed. For
    // that, the storage must show every tab the last write before the lock was released: browserStorage('local')
    // and hybridStorage() keep the session in IndexedDB for this reason (localStorage reaches other tabs late).
    let latest = stored.ok ? stored.tokens : this.#current;
    if (!latest) {
      this.#current = undefined;
      throw new InteractionRequiredError('login_required', 'there is no session; sign in first');
    }
    if (latest.accessToken !== staleAccessToken && this.#isFresh(latest)) {
      // Someone else renewed while we waited for the lock: adopt their tokens, spend no refresh token.
      if (latest.accessToken !== this.#current?.accessToken) this.#adopt(latest);
      return latest;
    }
    if (
      this.#channel &&
      known?.refreshToken !== undefined &&
      latest.refreshToken !== undefined &&
      latest.refreshToken !== known.refreshToken
    ) {
      // The refresh token in storage is not the one this tab held when it took the lock, yet storage has no
      // usable access token (hybridStorage keeps it in each tab's memory): the tab that rotated it posted its
      // tokens before releasing the lock, so wait for that message rather than spend the new refresh token
      // too. If it never comes (a client that does not broadcast), renewing with the latest refresh token is
      // merely one refresh too many, never a replay.
      const delivered = await this.#crossTabTokens(latest.refreshToken, CROSS_TAB_DELIVERY_MS);
      if (epoch !== this.#epoch) {
        throw new InteractionRequiredError('login_required', 'the session ended in another tab');
      }
      if (delivered && delivered.accessToken !== staleAccessToken && this.#isFresh(delivered))
        return delivered;
      if (delivered) latest = delivered;
    }
    if (!latest.refreshToken && latest.renewal !== 'client_credentials') {
      throw new InteractionRequiredError('login_required', 'the session has no refresh token; sign in again');
    }
    let response: Response;
    try {
      response = await this.#options.renew(latest);
    } catch (error) {
      // No response: the server may or may not have rotated the token. Keep it and do not resend blindly.
      if (error instanceof GatehouseError) events.emit('refreshFailed', error);
      throw error;
    }
    let body: Awaited<ReturnType<typeof processTokenResponse>>;
    try {
      body = await processTokenResponse(response);
    } catch (error) {
      if (
        error instanceof OAuthError &&
        error.error === 'invalid_grant' &&
        latest.renewal !== 'client_credentials'
      ) {
        // RFC 6749 §5.2: the refresh token is expired, revoked or was replayed; the session is over.
        const expired = new SessionExpiredError(undefined, { cause: error });
        if (epoch === this.#epoch) {
          await this.clear('sessionExpired');
          events.emit('sessionExpired', expired);
        }
        throw expired;
      }
      if (error instanceof GatehouseError) events.emit('refreshFailed', error);
      throw error;
    }
    if (epoch !== this.#epoch) {
      throw new InteractionRequiredError('login_required', 'the session ended while it was being refreshed');
    }
    const next = tokenSetFromResponse(body, clock.now(), latest);
    await this.commit(next);
    return next;
  }

  #adopt(tokens: TokenSet): void {
    this.#current = tokens;
    this.#options.events.emit('tokensChanged', tokens);
    this.#schedule();
  }

  /**
   * Resolves with the tokens another tab broadcasts for `refreshToken` (at once if they already arrived), or
   * `undefined` after `timeoutMs`.
   */
  #crossTabTokens(refreshToken: string, timeoutMs: number): Promise<TokenSet | undefined> {
    if (this.#current?.refreshToken === refreshToken) return Promise.resolve(this.#current);
    return new Promise((resolve) => {
      const arrived = (tokens: TokenSet | undefined) => {
        if (tokens !== undefined && tokens.refreshToken !== refreshToken) return;
        clearTimeout(timer);
        this.#arrivals.delete(arrived);
        resolve(tokens);
      };
      const timer = setTimeout(() => arrived(undefined), timeoutMs);
      (timer as { unref?: () => void }).unref?.();
      this.#arrivals.add(arrived);
    });
  }

  #onCrossTabMessage(message: CrossTabMessage): void {
    if (message.type === 'tokens') {
      if (message.tokens.accessToken !== this.#current?.accessToken) this.#adopt(message.tokens);
      for (const arrived of [...this.#arrivals]) arrived(message.tokens);
      return;
    }
    if (!this.#current) return;
    this.#epoch++;
    // A refresh waiting for another tab's tokens stops waiting: the session is over.
    for (const arrived of [...this.#arrivals]) arrived(undefined);
    this.#current = undefined;
    clearTimeout(this.#timer);
    this.#options.events.emit('tokensChanged', undefined);
    if (message.reason === 'signedOut') this.#options.events.emit('signedOut', undefined);
    else
      this.#options.events.emit(
        'sessionExpired',
        new SessionExpiredError('the session ended in another tab'),
      );
  }

  /** Proactive renewal: a little before expiry, spread by jitter so tabs and instances do not line up. */
  #schedule(): void {
    clearTimeout(this.#timer);
    const tokens = this.#current;
    if (!this.#options.autoRefresh || this.#closed || !tokens || tokens.expiresAt === undefined) return;
    if (!tokens.refreshToken && tokens.renewal !== 'client_credentials') return;
    const remaining = tokens.expiresAt - this.#options.clock.now();
    // The lead is capped at a quarter of the remaining life, so even very short tokens never refresh in a loop.
    const lead = Math.min(30_000, Math.max(remaining, 0) / 4);
    const jitter = Math.random() * Math.max(1_000, Math.min(5_000, remaining / 10));
    // setTimeout fires at once beyond 2^31-1 ms; a token living that long is simply rechecked then.
    const delay = Math.min(2_147_483_647, Math.max(0, remaining - lead - jitter));
    this.#timer = setTimeout(() => this.#renewProactively(tokens.accessToken), delay);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #renewProactively(scheduledFor: string): void {
    if (this.#closed || this.#current?.accessToken !== scheduledFor) {
      this.#schedule();
      return;
    }
    // Failures are reported through events; the next getAccessToken() or http call tries again.
    this.refresh(scheduledFor).catch(() => undefined);
  }

  #attachBrowserTriggers(): () => void {
    const doc = globalThis.document as Document | undefined;
    if (!this.#options.autoRefresh || !doc || typeof globalThis.addEventListener !== 'function')
      return () => {};
    // Background tabs throttle timers; recheck when the tab becomes visible or the network returns.
    const recheck = () => {
      if (doc.visibilityState === 'hidden') return;
      const tokens = this.#current;
      if (tokens?.expiresAt !== undefined && !this.#isFresh(tokens, 30_000)) {
        this.refresh(tokens.accessToken).catch(() => undefined);
      } else this.#schedule();
    };
    doc.addEventListener('visibilitychange', recheck);
    globalThis.addEventListener('online', recheck);
    return () => {
      doc.removeEventListener('visibilitychange', recheck);
      globalThis.removeEventListener('online', recheck);
    };
  }
}
