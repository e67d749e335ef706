// Password hashing under a burst of sign-ins: argon2id runs on libuv's thread pool, which also serves
// WebCrypto (the provider's token signatures), name resolution and file reads. Without a limit, a burst of
// sign-ins queued every hash in the pool, and a token signature waited behind all of them.

import { webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CONCURRENT_PASSWORD_HASHES, hashPassword, verifyPasswordHash } from '../../src/accounts/password.ts';

const PASSWORD = 'correct horse battery staple';

describe('password hashing', () => {
  it('leaves libuv pool threads free for other work: a signature started after a burst of hashes is not queued behind them', async () => {
    const phc = await hashPassword(PASSWORD);
    const key = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    // More hashes than the pool has threads, by far: unlimited, all but 4 would sit in the pool's queue.
    const burst = 4 * CONCURRENT_PASSWORD_HASHES + 8;
    let finished = 0;
    const hashes = Array.from({ length: burst }, () =>
      verifyPasswordHash(phc, PASSWORD).then((ok) => {
        finished++;
        return ok;
      }),
    );
    // An ES256 signature, as oidc-provider's JWT signing does it (jose on WebCrypto: a job in the same pool).
    await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, Buffer.from('payload'));
    const finishedBeforeTheSignature = finished;
    expect(await Promise.all(hashes)).toEqual(Array(burst).fill(true));
    // At most the hashes that were running when the signature was queued (in practice none: a signature takes
    // a fraction of a millisecond on the thread left free, a hash about ten).
    expect(finishedBeforeTheSignature).toBeLessThanOrEqual(CONCURRENT_PASSWORD_HASHES);
  });

  it('runs at most one hash per CPU and fewer than the pool has threads, and every queued one completes in turn', async () => {
    expect(CONCURRENT_PASSWORD_HASHES).toBeGreaterThanOrEqual(1);
    expect(CONCURRENT_PASSWORD_HASHES).toBeLessThan(Number(process.env.UV_THREADPOOL_SIZE) || 4);
    // A wrong password and a malformed hash still settle (false), and free their turn for the next.
    const phc = await hashPassword(PASSWORD);
    const results = await Promise.all([
      ...Array.from({ length: 3 * CONCURRENT_PASSWORD_HASHES }, () =>
        verifyPasswordHash(phc, 'wrong password!'),
      ),
      verifyPasswordHash('not a PHC string', PASSWORD),
      verifyPasswordHash(phc, PASSWORD),
    ]);
    expect(results.at(-1)).toBe(true);
    expect(results.slice(0, -1).every((ok) => ok === false)).toBe(true);
  });
});
