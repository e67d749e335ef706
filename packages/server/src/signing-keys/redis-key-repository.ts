import type { Cluster, Redis } from 'ioredis';
import { SIGNING_KEYS_REDIS_KEY } from '../store/keys.ts';
import { unavailableOnFailure } from '../store/unavailable-on-failure.ts';
import type { KeyRepository } from './key-repository.ts';

// Compare-and-set in one round trip. A single key, so it runs unchanged on a Cluster.
// ARGV[1] = '1' when a previous value is expected (ARGV[2]), '0' when the key must be absent.
const COMPARE_AND_SET = `
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '0' then
  if current then return 0 end
elseif current ~= ARGV[2] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[3])
return 1
`;

/**
 * A {@link KeyRepository} on Redis (standalone or Cluster), key `gatehouse:keys`.
 * The value has no expiry: losing it would invalidate every token in circulation. A Redis failure
 * is a `StoreUnavailableError`.
 *
 * @example
 * const repo = new RedisKeyRepository(createRedisConnection(config.redis));
 */
export class RedisKeyRepository implements KeyRepository {
  readonly #conn: Redis | Cluster;
  readonly #key: string;

  constructor(conn: Redis | Cluster, key: string = SIGNING_KEYS_REDIS_KEY) {
    this.#conn = conn;
    this.#key = key;
  }

  load(): Promise<string | null> {
    return unavailableOnFailure(() => this.#conn.get(this.#key));
  }

  async save(next: string, expectedPrevious: string | null): Promise<boolean> {
    const written = await unavailableOnFailure(() =>
      this.#conn.eval(
        COMPARE_AND_SET,
        1,
        this.#key,
        expectedPrevious === null ? '0' : '1',
        expectedPrevious ?? '',
        next,
      ),
    );
    return written === 1;
  }
}
