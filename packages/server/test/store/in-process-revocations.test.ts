import { createAccessTokenVerifier } from '@gatehouse/resource';
import { API } from '@gatehouse/testkit/clients';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { signIn } from '@gatehouse/testkit/sign-in';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * On the in-process store an API in the same process learns of revocations from the server
 * instance it is handed (`pnpm start` without Redis wires the demo API so), and from no other.
 */
describe('revocations of the in-process store', () => {
  let one: StartedGatehouse;
  let other: StartedGatehouse;
  beforeAll(async () => {
    one = await startGatehouse();
    other = await startGatehouse();
  });
  afterAll(async () => {
    await one?.stop();
    await other?.stop();
  });

  it("reach a verifier given this server's revocations, and only this server's", async () => {
    const revocations = one.server.revocations;
    if (!revocations) throw new Error('the in-process store has its own revocations');
    const verifier = createAccessTokenVerifier({ issuer: one.issuer, audience: API, revocations });
    const heardByOther: unknown[] = [];
    const unsubscribe = other.server.revocations?.subscribe((event) => heardByOther.push(event));
    try {
      const { tokens } = await signIn(one.server, one.issuer);
      const { claims } = await verifier.verify(tokens.access_token);
      expect(claims.gid).toBeTypeOf('string');
      const grantId = String(claims.gid);

      await one.server.revokeGrant(grantId);
      await expect(verifier.verify(tokens.access_token)).rejects.toMatchObject({
        status: 401,
        description: 'token revoked',
      });
      // A verifier that starts later still learns of it.
      expect(await revocations.list?.()).toMatchObject([{ type: 'grant', id: grantId }]);
      expect(heardByOther).toEqual([]);
      expect(await other.server.revocations?.list?.()).toEqual([]);
    } finally {
      unsubscribe?.();
      verifier.close();
    }
  });
});
