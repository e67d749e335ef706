import type { Redis } from 'ioredis';
import {
  parseRevocationEvent,
  parseRevokedMember,
  REVOCATION_CHANNEL,
  REVOKED_KEY,
  type RevocationEvent,
  type RevocationSource,
  revokedMember,
} from './revocation-contract.ts';

export {
  parseRevocationEvent,
  REVOCATION_CHANNEL,
  REVOKED_KEY,
  type RevocationEvent,
  type RevocationSource,
} from './revocation-contract.ts';

/**
 * Options of {@link redisRevocationSource}.
 *
 * @example
 * ```ts
 * redisRevocationSource(redis, { onError: (err) => logger.warn({ err }, 'revocation subscriber') });
 * ```
 */
export interface RedisRevocationSourceOptions {
  /** @default 'gatehouse:revocations' */
  channel?: string;
  /** @default 'gatehouse:revoked' */
  key?: string;
  /** Connection errors of the subscriber (it reconnects by itself). @default ignored */
  onError?: (error: unknown) => void;
  /** Clock for pruning the sorted set read. @default () => new Date() */
  now?: () => Date;
}

/**
 * Revocations from a Gatehouse server through Redis: SUBSCRIBE on a duplicate of `conn` for new
 * events, and the `gatehouse:revoked` sorted set read at start and after every reconnect, so an event
 * published while the subscriber was disconnected is not lost.
 *
 * @example
 * ```ts
 * const redis = new Redis(process.env.REDIS_URL);
 * const verifier = createAccessTokenVerifier({
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://api.example.com',
 *   revocations: redisRevocationSource(redis),
 * });
 * ```
 */
export function redisRevocationSource(
  conn: Redis,
  options: RedisRevocationSourceOptions = {},
): RevocationSource {
  const channel = options.channel ?? REVOCATION_CHANNEL;
  const key = options.key ?? REVOKED_KEY;
  const onError = options.onError ?? (() => {});
  const now = options.now ?? (() => new Date());

  const list = async (): Promise<RevocationEvent[]> => {
    const from = Math.floor(now().getTime() / 1000);
    const reply = await conn.call('ZRANGEBYSCORE', [key, String(from), '+inf', 'WITHSCORES']);
    if (!Array.isArray(reply)) return [];
    const events: RevocationEvent[] = [];
    const add = (member: unknown, score: unknown) => {
      const event = typeof member === 'string' ? parseRevokedMember(member, Number(score)) : undefined;
      if (event) events.push(event);
    };
    // RESP2 answers a flat [member, score, …]; RESP3 answers [[member, score], …].
    if (reply.every(Array.isArray)) for (const pair of reply as unknown[][]) add(pair[0], pair[1]);
    else for (let i = 0; i + 1 < reply.length; i += 2) add(reply[i], reply[i + 1]);
    return events;
  };

  return {
    list,
    subscribe(listener) {
      const subscriber = conn.duplicate();
      subscriber.on('error', onError);
      subscriber.on('message', (from: string, message: string) => {
        if (from !== channel) return;
        const event = parseRevocationEvent(message);
        if (event) listener(event);
      });
      // After (re)connecting: subscribe first, then read the set, so nothing falls between the two.
      subscriber.on('ready', () => {
        subscriber
          .subscribe(channel)
          .then(list)
          .then((events) => {
            for (const event of events) listener(event);
          })
          .catch(onError);
      });
      if (subscriber.status === 'wait') subscriber.connect().catch(onError);
      return () => subscriber.disconnect();
    },
  };
}

/**
 * The verifier's view of live revocations: `grant:<id>` → exp (epoch seconds). Internal
 * (not re-exported from the package).
 *
 * @example
 * ```ts
 * const list = new RevocationList(5);
 * list.add({ type: 'grant', id: 'g1', exp }, now);
 * list.isRevoked({ gid: 'g1' }); // true
 * ```
 */
export class RevocationList {
  #entries = new Map<string, number>();
  #lastSweep = 0;
  readonly #clockTolerance: number;

  constructor(clockTolerance: number) {
    this.#clockTolerance = clockTolerance;
  }

  add(event: RevocationEvent, nowSeconds: number): void {
    const key = revokedMember(event);
    this.#entries.set(key, Math.max(event.exp, this.#entries.get(key) ?? 0));
    // Entries outlive every token they can match only until their exp; sweep at most once a minute.
    if (nowSeconds - this.#lastSweep >= 60) {
      this.#lastSweep = nowSeconds;
      for (const [entry, exp] of this.#entries)
        if (exp + this.#clockTolerance < nowSeconds) this.#entries.delete(entry);
    }
  }

  /** Whether the token's grant (`gid`) is revoked; a token without a grant has none to revoke. */
  isRevoked(claims: { gid?: unknown }): boolean {
    return (
      typeof claims.gid === 'string' &&
      this.#entries.has(revokedMember({ type: 'grant', id: claims.gid, exp: 0 }))
    );
  }
}
