import {
  type AccessTokenVerifier,
  createAccessTokenVerifier,
  InvalidTokenError,
  REVOKED_KEY,
  redisRevocationSource,
} from '@gatehouse/resource';
import type { GatehouseServer } from '@gatehouse/server';
import { freePort, type RedisClusterProcess, startRedisCluster } from '@gatehouse/testkit';
import { postForm } from '@gatehouse/testkit/forms';
import { type GatehouseProcess, startGatehouseProcess } from '@gatehouse/testkit/process';
import { accountFor, refreshSpa, signInSpa, startInteractionDriver } from '@gatehouse/testkit/sign-in';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../support/measure.ts';

const AUDIENCE = 'http://localhost:4001';

/**
 * A standalone connection to the master serving `key`'s slot. Cluster Pub/Sub is broadcast to
 * every node, so any node would do for SUBSCRIBE; the verifier's catch-up read of the revoked
 * set (ZRANGEBYSCORE) must reach the node that owns the key.
 */
async function connectionToOwnerOf(cluster: RedisClusterProcess, key: string): Promise<Redis> {
  const probe = new Redis(cluster.nodes[0]?.url ?? '');
  const slot = Number(await probe.call('CLUSTER', 'KEYSLOT', key));
  const slots = (await probe.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  probe.disconnect();
  const owner = slots.find(([from, to]) => slot >= from && slot <= to)?.[2];
  if (!owner) throw new Error(`no node serves slot ${slot}`);
  return new Redis({ host: owner[0], port: owner[1] });
}

describe('Redis Cluster (3 masters) behind two Gatehouse processes with one issuer', () => {
  let cluster: RedisClusterProcess;
  let a: GatehouseProcess;
  let b: GatehouseProcess;
  let driver: GatehouseServer;
  const connections: Redis[] = [];
  const verifiers: AccessTokenVerifier[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    // Tokens carry `iss`: both instances answer for one issuer (a load balancer's name; here A's
    // URL), each on its own port, sharing the cluster and GATEHOUSE_SECRET.
    const portA = await freePort();
    const issuer = `http://localhost:${portA}`;
    a = await startGatehouseProcess({ clusterSeeds: cluster.seeds, port: portA, issuer });
    b = await startGatehouseProcess({ clusterSeeds: cluster.seeds, issuer });
    driver = await startInteractionDriver({ issuer, clusterSeeds: cluster.seeds });
  });
  afterAll(async () => {
    for (const verifier of verifiers) verifier.close();
    for (const connection of connections) connection.disconnect();
    await driver?.close();
    await a?.cleanup();
    await b?.cleanup();
    await cluster?.cleanup();
  });

  async function verifierOnCluster(): Promise<AccessTokenVerifier> {
    const connection = await connectionToOwnerOf(cluster, REVOKED_KEY);
    connections.push(connection);
    const verifier = createAccessTokenVerifier({
      issuer: a.issuer,
      audience: AUDIENCE,
      jwksUri: `${b.url}/jwks`,
      revocations: redisRevocationSource(connection),
    });
    verifiers.push(verifier);
    await verifier.ready();
    return verifier;
  }

  it('both instances publish the same signing keys', async () => {
    const kids = async (p: GatehouseProcess) =>
      ((await (await fetch(`${p.url}/jwks`)).json()) as { keys: { kid: string }[] }).keys
        .map((k) => k.kid)
        .sort();
    expect(await kids(b)).toEqual(await kids(a));
  });

  it('code from A redeemed at B, refresh rotated at B, revoked at A, rejected at B and at a resource server', async () => {
    const verifier = await verifierOnCluster();

    // Authorization at A (the issuer), code redeemed at B.
    const { callback, token } = await signInSpa(driver, {
      tokenUrl: `${b.url}/token`,
      account: 'cluster-user',
    });
    expect(callback.origin).toBe('http://localhost:5173');
    expect(token?.status).toBe(200);

    // Rotated at B.
    const rotated = await refreshSpa(`${b.url}/token`, String(token?.body.refresh_token));
    expect(rotated.status).toBe(200);
    const refreshToken = String(rotated.body.refresh_token);
    const accessToken = String(rotated.body.access_token);
    expect((await verifier.verify(accessToken)).sub).toBe(await accountFor(driver, 'cluster-user'));

    // Revoked at A (RFC 7009), which knows nothing of the rotation but the shared store.
    const revoked = await postForm(`${a.url}/revoke`, { token: refreshToken, client_id: 'spa' });
    expect(revoked.status).toBe(200);

    // Rejected at B; the access token is inactive at B's introspection.
    const again = await refreshSpa(`${b.url}/token`, refreshToken);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_grant');
    const introspection = await postForm(`${b.url}/introspect`, { token: accessToken, client_id: 'spa' });
    expect(introspection.body.active).toBe(false);

    // The resource server (verifier subscribed through one cluster node) sees the revocation.
    const revokedAt = performance.now();
    const rejected = await pollUntil(
      () =>
        verifier.verify(accessToken).then(
          () => false,
          (err: unknown) => err instanceof InvalidTokenError,
        ),
      10_000,
      20,
    );
    expect(rejected).toBe(true);
    console.log(
      `cluster: revocation at A reached the resource verifier in ${(performance.now() - revokedAt).toFixed(1)} ms`,
    );

    // A verifier that starts after the revocation catches up from the revoked set.
    const late = await verifierOnCluster();
    await expect(late.verify(accessToken)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('a refresh token rotated at A cannot be replayed at B (one winner across instances)', async () => {
    const { token } = await signInSpa(driver, { tokenUrl: `${a.url}/token`, account: 'cluster-race' });
    const refreshToken = String(token?.body.refresh_token);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => refreshSpa(`${(i % 2 === 0 ? a : b).url}/token`, refreshToken)),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.body.error === 'invalid_grant')).toHaveLength(7);
  });
});
