import { type RedisClusterProcess, startRedisCluster } from '@gatehouse/testkit';
import { postForm } from '@gatehouse/testkit/forms';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { signIn } from '@gatehouse/testkit/sign-in';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('on a real 3-master Redis Cluster', () => {
  let cluster: RedisClusterProcess;
  let gh: StartedGatehouse;
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    gh = await startGatehouse({ redis: { seeds: cluster.seeds } });
  });
  afterAll(async () => {
    await gh?.stop();
    await cluster?.cleanup();
  });

  const refresh = (refreshToken: string) =>
    postForm(`${gh.issuer}/token`, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: 'spa',
    });

  it('signs in, rotates, and revokes the family on replay', async () => {
    const { refreshToken } = await signIn(gh.server, gh.issuer);
    const rotated = await refresh(refreshToken);
    expect(rotated.status).toBe(200);
    expect((await refresh(refreshToken)).body.error).toBe('invalid_grant');
    expect((await refresh(String(rotated.body.refresh_token))).body.error).toBe('invalid_grant');
  });

  it('12 parallel refreshes: exactly one winner', async () => {
    const { refreshToken } = await signIn(gh.server, gh.issuer);
    const results = await Promise.all(Array.from({ length: 12 }, () => refresh(refreshToken)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.body.error === 'invalid_grant')).toHaveLength(11);
  });

  it('revocation through /revoke ends the grant', async () => {
    const { tokens, refreshToken } = await signIn(gh.server, gh.issuer);
    expect((await postForm(`${gh.issuer}/revoke`, { token: refreshToken, client_id: 'spa' })).status).toBe(
      200,
    );
    expect((await refresh(refreshToken)).body.error).toBe('invalid_grant');
    const introspection = await postForm(`${gh.issuer}/introspect`, {
      token: tokens.access_token,
      client_id: 'spa',
    });
    expect(introspection.body.active).toBe(false);
  });
});
