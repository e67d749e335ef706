import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { basic, SERVICE_SECRET } from '@gatehouse/testkit/clients';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopback, postFormFrom } from './support/from-address.ts';

const clientCredentials = { grant_type: 'client_credentials' };

/**
 * A credential an instance saw authenticate skips Redis there. A lockout tripped on another
 * instance must still refuse it: otherwise a locked address could confirm a guess by sending
 * it to an instance that never saw the lockout.
 */
describe('client authentication lockout across instances (one Redis)', () => {
  let redis: RedisProcess;
  const instances: StartedGatehouse[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    instances.push(await startGatehouse({ redis }), await startGatehouse({ redis }));
  });
  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    await redis?.cleanup();
  });

  const token = (instance: StartedGatehouse, from: string, secret: string) =>
    postFormFrom(from, `${instance.issuer}/token`, clientCredentials, basic('service', secret));

  it('a burst that locks an address on one instance refuses the known secret on the other, and on an instance started after', async () => {
    const [a, b] = instances as [StartedGatehouse, StartedGatehouse];
    // The service authenticates on A from its own address: A knows its credential.
    expect((await token(a, loopback(50), SERVICE_SECRET)).status).toBe(200);

    const attacker = loopback(51);
    const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => token(b, attacker, `guess-${i}`)));
    expect(burst.filter((r) => r.status === 401).length).toBeLessThanOrEqual(5);
    expect(burst.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(25);

    // The lockout was announced before B answered the request that tripped it: A refuses at once.
    const onA = await Promise.all(Array.from({ length: 5 }, () => token(a, attacker, SERVICE_SECRET)));
    expect(onA.map((r) => r.status)).toEqual(Array(5).fill(429));
    expect(Number(onA[0]?.headers['retry-after'])).toBeGreaterThan(60);
    // The service's own address is not locked.
    expect((await token(a, loopback(50), SERVICE_SECRET)).status).toBe(200);

    // An instance started after the lockout reads it from the store when it subscribes.
    const c = await startGatehouse({ redis });
    instances.push(c);
    expect((await token(c, loopback(52), SERVICE_SECRET)).status).toBe(200);
    expect((await token(c, attacker, SERVICE_SECRET)).status).toBe(429);
  });
});
