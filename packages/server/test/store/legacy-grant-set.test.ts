import { REVOCATION_CHANNEL, type RevocationEvent } from '@gatehouse/resource/revocation-contract';
import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { postForm } from '@gatehouse/testkit/forms';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { signIn } from '@gatehouse/testkit/sign-in';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantSetKey, legacyGrantSetKey, recordKey, recordKeyOfMember } from '../../src/store/keys.ts';
import { readStoredRecord } from '../../src/store/redis-adapter.ts';

/**
 * Releases before this one kept a grant's member set at `gatehouse:grant:{<grantId>}`, a name that
 * differed from the Grant record's `gatehouse:Grant:` only by case. A server of this release on a
 * Redis written by the previous one must still honour those grants and revoke all of their tokens.
 */
describe('grants written by the previous release', () => {
  let redis: RedisProcess;
  let inspect: Redis;
  let gh: StartedGatehouse | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    inspect = new Redis(redis.url);
  });
  afterAll(async () => {
    await gh?.stop();
    inspect?.disconnect();
    await redis?.cleanup();
  });

  it('are honoured, and revoking one revokes the tokens issued before the upgrade', async () => {
    // The previous release's data: a signed-in user whose grant set sits under the old name.
    const before = await startGatehouse({ redis });
    const { refreshToken, tokens } = await signIn(before.server, before.issuer);
    await before.stop();
    const grantId = (await readStoredRecord(inspect, recordKey('RefreshToken', refreshToken)))?.grantId;
    if (!grantId) throw new Error('the refresh token names no grant');
    expect(await inspect.rename(grantSetKey(grantId), legacyGrantSetKey(grantId))).toBe('OK');
    const issuedBefore = (await inspect.smembers(legacyGrantSetKey(grantId))).map(recordKeyOfMember);
    expect(issuedBefore).toContain(recordKey('RefreshToken', refreshToken));

    gh = await startGatehouse({ redis });
    const server = gh;
    const refresh = (token: string) =>
      postForm(`${server.issuer}/token`, {
        grant_type: 'refresh_token',
        refresh_token: token,
        client_id: 'spa',
      });

    // Honoured: the refresh token of the old layout rotates.
    const rotated = await refresh(refreshToken);
    expect(rotated.status).toBe(200);
    const successor = String(rotated.body.refresh_token);

    const subscriber = new Redis(redis.url);
    const events: RevocationEvent[] = [];
    subscriber.on('message', (_channel: string, message: string) => {
      events.push(JSON.parse(message) as RevocationEvent);
    });
    await subscriber.subscribe(REVOCATION_CHANNEL);
    try {
      await server.server.revokeGrant(grantId);

      // Every token of the grant is dead: the one issued after the upgrade and the ones before it.
      expect((await refresh(successor)).body).toMatchObject({ error: 'invalid_grant' });
      expect((await refresh(refreshToken)).body).toMatchObject({ error: 'invalid_grant' });
      const introspection = await postForm(`${server.issuer}/introspect`, {
        token: tokens.access_token,
        client_id: 'spa',
      });
      expect(introspection.body.active).toBe(false);
      for (const key of issuedBefore) expect(await inspect.exists(key)).toBe(0);
      expect(await inspect.exists(legacyGrantSetKey(grantId), grantSetKey(grantId))).toBe(0);
      // And resource servers were told, once.
      await expect.poll(() => events.length).toBe(1);
      expect(events[0]).toMatchObject({ type: 'grant', id: grantId });
    } finally {
      subscriber.disconnect();
    }
  });
});
