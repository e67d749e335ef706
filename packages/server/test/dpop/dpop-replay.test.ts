import { randomUUID } from 'node:crypto';
import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { basic, SERVICE_SECRET } from '@gatehouse/testkit/clients';
import { type DpopKey, dpopKey, dpopProof } from '@gatehouse/testkit/dpop';
import { postForm } from '@gatehouse/testkit/forms';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayClaimId } from '../../src/oidc-provider/oidc-provider-quirks.ts';
import { replayKey } from '../../src/store/keys.ts';
import { CLIENTS_WITH_DPOP, signInWithDpop } from './dpop-support.ts';

const BURST = 50;
const baseOf = (gh: StartedGatehouse) => `http://localhost:${gh.server.config.port}`;

// RFC 9449 §11.1: a proof is accepted once. One proof sent in a burst of 50 parallel requests,
// to one instance or split over two on one Redis: exactly one is served. The claim on the proof's
// jti is one atomic store operation (Redis SET NX EX; a synchronous check-and-set in memory).
describe.each([
  ['the in-process store', 'memory'],
  ['Redis', 'redis'],
  ['two instances on one Redis', 'two'],
] as const)('replayed DPoP proofs on %s', (_label, setup) => {
  let redis: RedisProcess | undefined;
  let instances: StartedGatehouse[] = [];
  beforeAll(async () => {
    if (setup !== 'memory') redis = await startRedis();
    const gatehouse = { clients: CLIENTS_WITH_DPOP };
    const first = await startGatehouse({ ...(redis ? { redis } : {}), gatehouse });
    instances = [first];
    if (setup === 'two' && redis) {
      instances.push(await startGatehouse({ redis, env: { ISSUER: first.issuer }, gatehouse }));
    }
  });
  afterAll(async () => {
    await Promise.all(instances.map((gh) => gh.stop()));
    await redis?.cleanup();
  });

  /** Request `i` of the burst goes to this instance (alternating when there are two). */
  const target = (i: number) => baseOf(instances[i % instances.length] as StartedGatehouse);

  it(`one proof in ${BURST} parallel userinfo requests: exactly one 200, the rest 401 invalid_token`, async () => {
    const [gh] = instances as [StartedGatehouse];
    const key = await dpopKey();
    const issued = await signInWithDpop(gh, key, { scope: 'openid' });
    const accessToken = String(issued.body.access_token);
    const proof = await dpopProof(key, { htm: 'GET', htu: `${gh.issuer}/userinfo`, accessToken });
    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        fetch(`${target(i)}/userinfo`, {
          headers: { authorization: `DPoP ${accessToken}`, dpop: proof },
        }).then(async (r) => ({
          status: r.status,
          wwwAuthenticate: r.headers.get('www-authenticate') ?? '',
          body: await r.text(),
        })),
      ),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    const refused = answers.filter((a) => a.status === 401);
    expect(refused).toHaveLength(BURST - 1);
    for (const answer of refused) expect(answer.wwwAuthenticate).toMatch(/^DPoP .*error="invalid_token"/);

    // A fresh proof of the same key is served as usual.
    const fresh = await fetch(`${target(1)}/userinfo`, {
      headers: {
        authorization: `DPoP ${accessToken}`,
        dpop: await dpopProof(key, { htm: 'GET', htu: `${gh.issuer}/userinfo`, accessToken }),
      },
    });
    expect(fresh.status).toBe(200);
  });

  it(`one proof in ${BURST} parallel client-credentials requests: exactly one token, the rest invalid_grant`, async () => {
    const [gh] = instances as [StartedGatehouse];
    const key: DpopKey = await dpopKey();
    const jti = randomUUID();
    const proof = await dpopProof(key, { htm: 'POST', htu: `${gh.issuer}/token`, jti });
    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        postForm(
          `${target(i)}/token`,
          { grant_type: 'client_credentials', scope: 'recipes:read' },
          {
            ...basic('service', SERVICE_SECRET),
            dpop: proof,
          },
        ),
      ),
    );
    const ok = answers.filter((a) => a.status === 200);
    expect(ok).toHaveLength(1);
    expect(ok[0]?.body.token_type).toBe('DPoP');
    expect(answers.filter((a) => a.status === 400 && a.body.error === 'invalid_grant')).toHaveLength(
      BURST - 1,
    );

    // The claim outlives every moment the proof could be accepted: its iat may be 300 s off either way.
    const conn = gh.server.store.connection;
    if (conn) {
      expect(await conn.ttl(replayKey(replayClaimId('service', jti)))).toBeGreaterThan(590);
    }
  });
});
