import { Redis } from 'ioredis';

/** Memory and key count of a private Redis, as `INFO memory` and `DBSIZE` report them. */
export async function redisMemory(url: string): Promise<{ usedMemory: number; keys: number }> {
  const redis = new Redis(url, { lazyConnect: true });
  try {
    await redis.connect();
    const info = await redis.info('memory');
    const usedMemory = Number(info.match(/^used_memory:(\d+)/m)?.[1]);
    return { usedMemory, keys: await redis.dbsize() };
  } finally {
    redis.disconnect();
  }
}

/** Every key of the database, in SCAN batches (COUNT 1000). */
async function* scanBatches(redis: Redis): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [nextCursor, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = nextCursor;
    yield keys;
  } while (cursor !== '0');
}

/**
 * Average `MEMORY USAGE` (bytes, key and value with Redis' overhead) of up to `sample` keys per
 * `gatehouse:<Model>` prefix, with the key count of each prefix.
 */
export async function bytesByPrefix(
  url: string,
  sample = 200,
): Promise<Record<string, { keys: number; avgBytes: number }>> {
  const redis = new Redis(url, { lazyConnect: true });
  const seen: Record<string, { keys: number; sampled: number; bytes: number }> = {};
  try {
    await redis.connect();
    for await (const keys of scanBatches(redis)) {
      for (const key of keys) {
        const prefix = key.split(':').slice(0, 2).join(':');
        const entry = seen[prefix] ?? { keys: 0, sampled: 0, bytes: 0 };
        seen[prefix] = entry;
        entry.keys++;
        if (entry.sampled < sample) {
          const bytes = (await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) as number | null;
          if (bytes !== null) {
            entry.sampled++;
            entry.bytes += bytes;
          }
        }
      }
    }
    return Object.fromEntries(
      Object.entries(seen).map(([prefix, e]) => [
        prefix,
        { keys: e.keys, avgBytes: e.sampled ? Math.round(e.bytes / e.sampled) : 0 },
      ]),
    );
  } finally {
    redis.disconnect();
  }
}

/** Deletes the keys `drop` selects (SCAN + DEL): only for warm-up data, never for what is measured. */
export async function deleteKeys(url: string, drop: (key: string) => boolean): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true });
  let deleted = 0;
  try {
    await redis.connect();
    for await (const keys of scanBatches(redis)) {
      const doomed = keys.filter(drop);
      if (doomed.length > 0) deleted += await redis.del(...doomed);
    }
    return deleted;
  } finally {
    redis.disconnect();
  }
}

/** Commands Redis has executed so far, by name (`INFO commandstats`), without the INFO calls themselves. */
export async function redisCommands(url: string): Promise<Record<string, number>> {
  const redis = new Redis(url, { lazyConnect: true });
  try {
    await redis.connect();
    const info = await redis.info('commandstats');
    const counts: Record<string, number> = {};
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      if (match[1] !== 'info') counts[match[1]!] = Number(match[2]);
    }
    return counts;
  } finally {
    redis.disconnect();
  }
}

/** Redis commands per request of `send`, run `times` times one after another (nothing else may use Redis). */
export async function commandsPerRequest(
  url: string,
  times: number,
  send: () => Promise<unknown>,
): Promise<{ total: number; byCommand: Record<string, number> }> {
  const before = await redisCommands(url);
  for (let i = 0; i < times; i++) await send();
  const after = await redisCommands(url);
  const byCommand: Record<string, number> = {};
  let total = 0;
  for (const [name, calls] of Object.entries(after)) {
    const perRequest = (calls - (before[name] ?? 0)) / times;
    if (perRequest > 0) {
      byCommand[name] = Math.round(perRequest * 100) / 100;
      total += perRequest;
    }
  }
  return { total: Math.round(total * 100) / 100, byCommand };
}
