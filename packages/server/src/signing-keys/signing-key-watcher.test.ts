import { describe, expect, it } from 'vitest';
import { encryptKeyRecords } from './key-encryption.ts';
import { MemoryKeyRepository } from './key-repository.ts';
import { loadKeys, rotateSigningKey } from './signing-key-lifecycle.ts';
import { epochSeconds } from './signing-key-record.ts';
import { type ActiveKeySet, SigningKeyWatcher } from './signing-key-watcher.ts';

const secret = 'watcher-test-secret-with-32-characters';

describe('SigningKeyWatcher', () => {
  it('creates the first key, then reports each change of the published set or signing key once', async () => {
    const repo = new MemoryKeyRepository();
    const changes: ActiveKeySet[] = [];
    const watcher = await SigningKeyWatcher.start(repo, secret, (keys) => changes.push(keys), 3600);
    try {
      const [first, firstRsa] = watcher.current.jwks.map((jwk) => jwk.kid);
      expect(watcher.current.jwks.map((jwk) => jwk.alg)).toEqual(['ES256', 'RS256']);
      expect(watcher.current).toMatchObject({ signingAlg: 'ES256', version: `${first},${firstRsa}` });

      const now = epochSeconds();
      const { added, records } = await rotateSigningKey(repo, secret, {
        now,
        jwksMaxAge: 60,
        accessTokenTTL: 900,
      });
      const addedRsa = added.rsa?.kid;
      await watcher.refresh(now);
      await watcher.refresh(now + 1);
      expect(changes.map((keys) => keys.version)).toEqual([`${first},${firstRsa},${added.kid},${addedRsa}`]);

      await watcher.refresh(added.activateAt);
      expect(watcher.current.jwks.slice(0, 2).map((jwk) => jwk.kid)).toEqual([added.kid, addedRsa]);
      // The RS256 key never decides what signs access tokens.
      expect(watcher.current.signingAlg).toBe('ES256');

      const retireAt = records.find((record) => record.kid === first)?.retireAt ?? 0;
      await watcher.refresh(retireAt);
      expect(changes.map((keys) => keys.version)).toEqual([
        `${first},${firstRsa},${added.kid},${addedRsa}`,
        `${added.kid},${addedRsa},${first},${firstRsa}`,
        `${added.kid},${addedRsa}`,
      ]);
    } finally {
      watcher.stop();
    }
  });

  it('adds the RS256 keys a release without them dropped, and publishes them', async () => {
    const repo = new MemoryKeyRepository();
    const watcher = await SigningKeyWatcher.start(repo, secret, () => {}, 3600);
    try {
      const now = epochSeconds();
      const stripped = (await loadKeys(repo, secret)).map(({ rsa: _rsa, ...rest }) => rest);
      await repo.save(encryptKeyRecords(stripped, secret), await repo.load());
      await watcher.refresh(now);
      const [generation] = await loadKeys(repo, secret);
      expect(generation?.rsa).toBeDefined();
      expect(watcher.current.jwks.map((jwk) => jwk.kid)).toEqual([generation?.kid, generation?.rsa?.kid]);
    } finally {
      watcher.stop();
    }
  });
});
