import { describe, expect, it } from 'vitest';
import { MemoryKeyRepository } from './key-repository.ts';
import { rotateSigningKey } from './signing-key-lifecycle.ts';
import { epochSeconds } from './signing-key-record.ts';
import { type ActiveKeySet, SigningKeyWatcher } from './signing-key-watcher.ts';

const secret = 'watcher-test-secret-with-32-characters';

describe('SigningKeyWatcher', () => {
  it('creates the first key, then reports each change of the published set or signing key once', async () => {
    const repo = new MemoryKeyRepository();
    const changes: ActiveKeySet[] = [];
    const watcher = await SigningKeyWatcher.start(repo, secret, (keys) => changes.push(keys), 3600);
    try {
      const first = watcher.current.jwks[0]?.kid;
      expect(watcher.current).toMatchObject({ signingAlg: 'ES256', version: first });

      const now = epochSeconds();
      const { added, records } = await rotateSigningKey(repo, secret, {
        now,
        jwksMaxAge: 60,
        accessTokenTTL: 900,
      });
      await watcher.refresh(now);
      await watcher.refresh(now + 1);
      expect(changes.map((keys) => keys.version)).toEqual([`${first},${added.kid}`]);

      await watcher.refresh(added.activateAt);
      expect(watcher.current.jwks[0]?.kid).toBe(added.kid);

      const retireAt = records.find((record) => record.kid === first)?.retireAt ?? 0;
      await watcher.refresh(retireAt);
      expect(changes.map((keys) => keys.version)).toEqual([
        `${first},${added.kid}`,
        `${added.kid},${first}`,
        `${added.kid}`,
      ]);
    } finally {
      watcher.stop();
    }
  });
});
