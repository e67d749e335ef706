/**
 * A client's session: its tokens in memory and storage, the one path by which they are renewed, other tabs,
 * the events, and the snapshot for UIs (see `auth-state.ts`), kept where the session changes rather than from
 * its own events. Closures rather than a class, for a smaller browser bundle.
 */
import type { AuthSnapshot, AuthStatus } from './auth-state.ts';
import type { Clock } from './clock.ts';
import {
  type GatehouseClientError,
  GatehouseError,
  InteractionRequiredError,
  OAuthError,
  SessionExpiredError,
} from './errors.ts';
import type { GatehouseEvents, GatehouseListener } from './events.ts';
import { decodeJwt, type GatehouseUser } from './id-token.ts';
import { check, defined, type Json, parseObject, type TokenEndpointResponse, tokenSet } from './protocol.ts';
import { type RefreshLock, webLock } from './refresh-lock.ts';
import type { TokenStorage } from './storage/token-storage.ts';
import type { AccessTokenTarget, ResourceToken, TokenSet } from './token-set.ts';

/** What the session needs from its client. */
export interface SessionOptions {
  storage: TokenStorage;
  /** Storage keys start with this; it also names the BroadcastChannel and the lock. */
  prefix: string;
  /**
   * Cross-client exclusion; `undefined` (where Web Locks are missing): the in-flight promise is the only guard.
   * @default webLock()
   */
  lock?: RefreshLock | undefined;
  clock: Clock;
  /** Share tokens and session ends with other tabs over a BroadcastChannel. @default true in browsers */
  crossTab?: boolean | undefined;
  /** Refresh shortly before expiry and on `visibilitychange`/`online`. @default true */
  autoRefresh?: boolean | undefined;
  /**
   * Sends the renewal request (refresh token or client credentials grant) for these tokens, for the client's
   * default API or for `target` (RFC 8707 `resource`, a narrower `scope`).
   */
  renew(tokens: TokenSet, target?: AccessTokenTarget): Promise<TokenEndpointResponse>;
}

type Message =
  | { type: 'tokens'; tokens: TokenSet } // a tab renewed or signed in: everyone adopts
  | { type: 'ask' } // a tab without an access token of its own asks for the current one
  | { type: 'answer'; tokens: TokenSet } // ...and gets it: only the asker takes it
  | { type: 'cleared'; reason: 'signedOut' | 'sessionExpired' };

/** The cache key of a target's access token; `undefined` for the client's default API and scope. */
export const targetKey = (target?: AccessTokenTarget): string | undefined =>
  target?.resource || target?.scope ? `${target.resource ?? ''} ${target.scope ?? ''}` : undefined;

/** The access token `tokens` hold for the target `key` (see {@link targetKey}). */
const view = (tokens: TokenSet | undefined, key: string | undefined): ResourceToken | undefined =>
  key ? tokens?.resources?.[key] : tokens;

/** The fields of one access token (the default API's, or one of `resources`), `undefined` where absent. */
const token = ({ accessToken, expiresAt, issuedAt, scope }: ResourceToken) => ({
  accessToken,
  expiresAt,
  issuedAt,
  scope,
});

const unref = (handle: unknown) => (handle as { unref?: () => void } | undefined)?.unref?.();

/**
 * Owns a client's tokens and the one path by which they are renewed: memory → one in-flight promise → lock →
 * re-read storage (another tab may have renewed) → renew → store → tell other tabs. Concurrent callers share
 * a single renewal; a renewal is never retried on its own.
 *
 * @example
 * ```ts
 * const session = createSession({ storage: memoryStorage(), prefix: 'gatehouse:demo', lock: webLock(),
 *   clock: systemClock, crossTab: true, autoRefresh: true, renew });
 * const token = await session.getAccessToken();
 * ```
 */
export function createSession(options: SessionOptions) {
  const doc = globalThis.document as Document | undefined;
  const { storage, prefix, lock = webLock(), clock, crossTab = !!doc, autoRefresh = true } = options;
  const listeners: { [E in keyof GatehouseEvents]?: Set<GatehouseListener<E>> } = {};
  const emit = <E extends keyof GatehouseEvents>(event: E, payload: GatehouseEvents[E]): void => {
    for (const listener of listeners[event] ?? []) {
      try {
        listener(payload);
      } catch (error) {
        queueMicrotask(() => {
          throw error; // a failing listener must not break the session or other listeners
        });
      }
    }
  };

  const accessKey = `${prefix}:access`;
  const sessionKey = `${prefix}:session`;
  let current: TokenSet | undefined;

  // The snapshot: `loading` until `ready`, then from `current`, whether the server ended the session and the
  // last error. The places that change them schedule one publication per task (tokens cleared, then
  // `sessionExpired`, publish once), before the event's listeners run.
  const subscribers = new Set<() => void>();
  let snapshot: AuthSnapshot = { status: 'loading', user: undefined, error: undefined };
  let booted = false;
  let expired = false;
  let lastError: GatehouseClientError | undefined;
  /** The user's claims but the volatile ones, as JSON; `undefined` while nobody is signed in. */
  let identity: string | undefined;
  let pending = false;
  const publish = (): void => {
    pending = false;
    const claims = current?.idToken ? (decodeJwt(current.idToken) as GatehouseUser) : undefined;
    // Claims that change with every renewal of the same user do not make a new `user` object.
    const next =
      claims &&
      JSON.stringify(
        Object.entries(claims).filter(([claim]) => !/^(exp|iat|auth_time|at_hash|nonce|sid)$/.test(claim)),
      );
    const user = next === identity ? snapshot.user : claims;
    const status: AuthStatus = !booted ? 'loading' : current ? 'signedIn' : expired ? 'expired' : 'signedOut';
    if (status === snapshot.status && user === snapshot.user && lastError === snapshot.error) return;
    const before = snapshot.user?.sub;
    identity = next;
    snapshot = { status, user, error: lastError };
    if (user?.sub !== before) emit('userChanged', user);
    for (const listener of [...subscribers]) listener();
  };
  const later = (): void => {
    if (!pending) queueMicrotask(publish);
    pending = true;
  };
  /** Renewals in flight, by target key ('' for the default API): callers for one target share one. */
  const inflight = new Map<string, Promise<ResourceToken>>();
  /**
   * Every renewal of every target runs after the previous one: each spends the refresh token and gets a
   * rotated one, so two at once would replay it (RFC 9700 §4.14.2) and the server would end the session.
   */
  let queue: Promise<unknown> = Promise.resolve();
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped whenever the session ends, so a renewal that was in flight cannot resurrect it. */
  let epoch = 0;
  let closed = false;
  /** Waiters for tokens another tab sends (see `refresh`). */
  const arrivals = new Set<(tokens?: TokenSet) => void>();
  const settle = (tokens?: TokenSet) => {
    for (const arrived of [...arrivals]) arrived(tokens);
  };

  const channel = crossTab && globalThis.BroadcastChannel ? new BroadcastChannel(prefix) : undefined;
  // Node keeps the event loop alive for an open channel; a client must not pin a CLI process.
  unref(channel);
  const post = (message: Message) => channel?.postMessage(message);

  /**
   * `tokens` if they hold an access token other than `stale` that expires later than 10 s from now, or than a
   * quarter of its lifetime if that is less; else `undefined`. The quarter keeps short-lived tokens usable: with
   * a fixed 10 s margin a token that lives 10 s would count as expired at once and every call would refresh.
   * (The numbers are written inline here and below: esbuild keeps a module's constants as variables.)
   */
  const fresh = <T extends ResourceToken>(tokens: T | undefined, stale?: string): T | undefined => {
    if (!tokens?.accessToken || tokens.accessToken === stale) return;
    const { expiresAt, issuedAt = -Infinity } = tokens;
    if (
      expiresAt === undefined ||
      expiresAt - clock.now() > Math.min(10_000, Math.max(0, expiresAt - issuedAt) / 4)
    )
      return tokens;
  };

  /**
   * The session in storage, read defensively: anything malformed reads as "no session". Storage is the truth
   * shared with other tabs and instances; only when it fails does this fall back to what memory holds.
   */
  const read = async (): Promise<TokenSet | undefined> => {
    let stored: Json;
    try {
      const [access, saved] = await Promise.all([storage.get(accessKey), storage.get(sessionKey)]);
      stored = { ...parseObject(saved), ...parseObject(access) };
    } catch {
      return current;
    }
    try {
      // `renewal` is only ever compared with 'client_credentials': anything else means refresh tokens.
      const tokens = check<TokenSet>(stored, {
        accessToken: 'S?',
        refreshToken: 's?',
        idToken: 's?',
        scope: 'S?',
        expiresAt: 'n?',
        issuedAt: 'n?',
      });
      if (typeof tokens.resources !== 'object') delete tokens.resources;
      return tokens.accessToken
        ? tokens
        : // Without a stored access token (hybridStorage in a new tab) the set is "already expired": the
          // empty token is never handed out because expiresAt 0 forces a renewal first.
          tokens.refreshToken
          ? { ...tokens, accessToken: '', expiresAt: 0 }
          : undefined;
    } catch {
      return undefined; // malformed: signed out
    }
  };

  /** Proactive renewal: a little before expiry, spread by jitter so tabs and instances do not line up. */
  const schedule = (): void => {
    clearTimeout(timer);
    const tokens = current;
    if (!autoRefresh || closed || tokens?.expiresAt === undefined) return;
    if (!tokens.refreshToken && tokens.renewal !== 'client_credentials') return;
    const remaining = Math.max(0, tokens.expiresAt - clock.now());
    // The lead is capped at a quarter of the remaining life, so even very short tokens never refresh in a loop.
    const lead =
      Math.min(30_000, remaining / 4) + Math.random() * Math.max(1_000, Math.min(5_000, remaining / 10));
    // setTimeout fires at once beyond 2^31-1 ms; a token living that long is simply rechecked then. A delay
    // below 0 (the renewal window has begun) fires at once too, as 0 does.
    timer = setTimeout(
      () => {
        // (No `closed` check: close() clears this timer, and schedule() sets none once closed.)
        if (current?.accessToken !== tokens.accessToken) schedule();
        // Failures are reported through events; the next getAccessToken() or http call tries again.
        else refresh(tokens.accessToken).catch(() => undefined);
      },
      Math.min(2 ** 31 - 1, remaining - lead),
    );
    unref(timer);
  };

  const adopt = (tokens: TokenSet): void => {
    current = tokens;
    expired = false;
    lastError = undefined;
    later();
    emit('tokensChanged', tokens);
    schedule();
  };

  /** Makes `tokens` the session: memory, storage, other tabs, listeners, the proactive timer. */
  const commit = async (tokens: TokenSet): Promise<void> => {
    current = tokens;
    const { accessToken, expiresAt, issuedAt, resources, ...rest } = tokens;
    try {
      // The refresh token first: if the second write fails, the next start renews instead of replaying.
      await storage.set(sessionKey, JSON.stringify(rest));
      await storage.set(accessKey, JSON.stringify({ ...token(tokens), resources }));
    } catch {
      // Memory still holds the tokens; a storage that refuses writes must not fail a sign-in or renewal.
    }
    post({ type: 'tokens', tokens });
    adopt(tokens);
  };

  /**
   * Ends the session: memory, timer, and a renewal waiting for another tab; then, unless another tab already
   * did (`shared` false), storage and the other tabs; then the listeners get `tokensChanged(undefined)` and
   * `signedOut` or `sessionExpired`.
   */
  const end = async (
    reason: 'signedOut' | 'sessionExpired',
    error = new SessionExpiredError('the session ended'),
    shared = true,
  ): Promise<void> => {
    epoch++;
    current = undefined;
    clearTimeout(timer);
    settle();
    if (shared) {
      try {
        await Promise.all([storage.remove(accessKey), storage.remove(sessionKey)]);
      } catch {
        // Nothing better to do: memory is cleared, and stale storage is validated again on the next read.
      }
      post({ type: 'cleared', reason });
    }
    expired = reason === 'sessionExpired';
    lastError = expired ? error : undefined;
    later();
    emit('tokensChanged', undefined);
    if (reason === 'signedOut') emit(reason, undefined);
    else {
      emit(reason, error);
      // Only the tab that learnt it from the server asks for a sign-in; the others follow its broadcast.
      if (shared) emit('signInRequired', error);
    }
  };

  const loggedOut = (detail: string) => new InteractionRequiredError('login_required', detail);

  /**
   * Obtains a token other than `stale` (the one that expired or was rejected). Joins the renewal in flight if
   * there is one; under the lock adopts a fresh token another client stored meanwhile instead of renewing.
   */
  const refresh = (stale?: string, target?: AccessTokenTarget): Promise<ResourceToken> => {
    const started = epoch;
    /** The target's key, '' for the default API (where {@link view} and the checks below treat it as none). */
    const key = targetKey(target) ?? '';
    /** The renewal proper, run under the lock after every earlier one. */
    const run = async (): Promise<ResourceToken> => {
      const known = current;
      // Storage must show every tab the last write before the lock was released: browserStorage('local') and
      // hybridStorage() keep the session in IndexedDB for this reason (localStorage reaches other tabs late).
      let latest = await read();
      // Another tab may have renewed while we waited for the lock or read storage, and its broadcast arrived.
      const arrived = fresh(view(current, key), stale);
      if (arrived) return arrived;
      if (!latest) {
        current = undefined;
        throw loggedOut('no session');
      }
      const refreshToken = latest.refreshToken;
      const rotated = known?.refreshToken !== undefined && known.refreshToken !== refreshToken;
      const ask = !key && !latest.accessToken && !known?.accessToken;
      if (channel && refreshToken && !fresh(view(latest, key), stale) && (rotated || ask)) {
        // Storage holds no usable access token. If another tab rotated the refresh token (it differs from the
        // one this tab held), that tab posted its tokens before releasing the lock: wait for the message rather
        // than spend the new refresh token too. If this tab never had an access token and storage has none
        // (hybridStorage keeps it in each tab's memory: a new tab, a reload), ask the other tabs for theirs.
        // Without an answer, renewing is merely one renewal too many, never a replay.
        // The waits: the broadcast of a rotation takes milliseconds, so 2 s only bounds peers that never send; a
        // tab asking for an access token waits 150 ms before spending the refresh token itself.
        if (ask) post({ type: 'ask' });
        // Tokens another tab sends for this refresh token, or `undefined` after the wait or when the session ends.
        const delivered = await new Promise<TokenSet | undefined>((resolve) => {
          const arrived = (tokens?: TokenSet) => {
            if (tokens && tokens.refreshToken !== refreshToken) return;
            clearTimeout(wait);
            arrivals.delete(arrived);
            resolve(tokens);
          };
          const wait = setTimeout(arrived, rotated ? 2_000 : 150);
          unref(wait);
          // Registered synchronously after the last check of memory above: no message can slip in between.
          arrivals.add(arrived);
        });
        if (started !== epoch) throw loggedOut('the session ended');
        if (delivered) latest = delivered;
      }
      const adopted = fresh(view(latest, key), stale);
      if (adopted) {
        // Someone else renewed: adopt their tokens, spend no refresh token.
        if (
          adopted.accessToken !== view(current, key)?.accessToken ||
          latest.refreshToken !== current?.refreshToken
        )
          adopt(latest);
        return adopted;
      }
      const viaClientCredentials = latest.renewal === 'client_credentials';
      if (!refreshToken && !viaClientCredentials) throw loggedOut('no refresh token');
      const response = await options.renew(latest, target).catch(async (error: unknown) => {
        if (error instanceof OAuthError && error.error === 'invalid_grant' && !viaClientCredentials) {
          // RFC 6749 §5.2: the refresh token is expired, revoked or was replayed; the session is over.
          const expired = new SessionExpiredError('refresh token refused', { cause: error });
          if (started === epoch) await end('sessionExpired', expired);
          throw expired;
        }
        // Without a response the server may or may not have rotated the token: keep it, never resend blindly.
        if (error instanceof GatehouseError) {
          lastError = error;
          later();
          emit('refreshFailed', error);
        }
        throw error;
      });
      if (started !== epoch) throw loggedOut('the session ended');
      const renewed = tokenSet(response, clock.now(), latest);
      // A token for another API rides beside the default one; the rotated refresh token serves them all.
      const next: TokenSet = key
        ? defined<TokenSet>({
            ...renewed,
            ...token(latest),
            resources: { ...latest.resources, [key]: defined(token(renewed)) },
          })
        : renewed;
      await commit(next);
      return view(next, key) as ResourceToken;
    };
    let renewal = inflight.get(key);
    if (!renewal) {
      renewal = queue
        .then(() => (lock ? lock.run(`gatehouse-refresh:${prefix}`, run) : run()))
        .finally(() => inflight.delete(key));
      inflight.set(key, renewal);
      queue = renewal.catch(() => undefined);
    }
    return renewal;
  };

  const loaded = read().then((tokens) => {
    // A sign-in that finished while storage was being read wins over what storage held.
    if (!current && !epoch) current = tokens;
    schedule();
  });
  /** Start-up done: storage read and, when the stored access token has expired, its renewal settled. */
  const ready = loaded.then(async () => {
    if (autoRefresh && current?.refreshToken && !fresh(current)) {
      await refresh(current.accessToken).catch(() => undefined);
    }
  });
  // Published before `ready` resolves for anyone else: a UI that renders after it never shows `loading`.
  void ready.then(() => {
    booted = true;
    publish();
  });

  if (channel) {
    channel.onmessage = ({ data }: MessageEvent<Message | null>) => {
      if (data?.type === 'tokens' || data?.type === 'answer') {
        const { accessToken, refreshToken, resources } = data.tokens;
        // A renewal for another API keeps the default access token but rotates the refresh token.
        if (
          data.type === 'tokens' &&
          (accessToken !== current?.accessToken ||
            refreshToken !== current.refreshToken ||
            JSON.stringify(resources) !== JSON.stringify(current.resources))
        )
          adopt(data.tokens);
        settle(data.tokens);
      } else if (data?.type === 'ask') {
        const tokens = fresh(current);
        if (tokens) post({ type: 'answer', tokens });
      } else if (data?.type === 'cleared' && current) {
        void end(data.reason, undefined, false);
      }
    };
  }

  // Background tabs throttle timers, and a sleeping laptop stops them: when the tab becomes visible or the
  // network returns, schedule again, which renews at once if the token is already within its renewal window.
  const detach = new AbortController();
  if (autoRefresh && doc) {
    doc.addEventListener('visibilitychange', schedule, detach);
    globalThis.addEventListener('online', schedule, detach);
  }

  return {
    /** Subscribes to an event; returns the unsubscribe function. */
    on<E extends keyof GatehouseEvents>(event: E, listener: GatehouseListener<E>): () => void {
      // biome-ignore lint/suspicious/noAssignInExpressions: create the set on first use
      const set = (listeners[event] ??= new Set() as never) as Set<GatehouseListener<E>>;
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },
    /** The tokens, once start-up has read storage and a renewal in flight (if any) has settled. */
    tokens: async (): Promise<TokenSet | undefined> => {
      await loaded;
      await queue;
      return current;
    },
    ready,
    /** The current {@link AuthSnapshot}: the same object until something in it changes. */
    getSnapshot: (): AuthSnapshot => snapshot,
    /** Calls `listener` after every change of the snapshot; returns the unsubscribe function. */
    subscribe(listener: () => void): () => void {
      subscribers.add(listener);
      return () => {
        subscribers.delete(listener);
      };
    },
    /**
     * A valid access token: from memory when fresh, else from the single shared renewal.
     * @throws {InteractionRequiredError} when there is no session
     * @throws {SessionExpiredError} when the server rejects the refresh token
     */
    getAccessToken: async (target?: AccessTokenTarget): Promise<string> => {
      await loaded;
      const key = targetKey(target);
      const known = view(current, key);
      return (fresh(known) ?? (await refresh(known?.accessToken, target))).accessToken;
    },
    refresh,
    commit,
    /** Ends the session here, in storage and in other tabs; listeners get `tokensChanged` and `reason`. */
    clear: end,
    close(): void {
      closed = true;
      clearTimeout(timer);
      settle();
      channel?.close();
      detach.abort();
    },
  };
}

/** A client's session (see {@link createSession}). */
export type Session = ReturnType<typeof createSession>;
