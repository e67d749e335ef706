import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RevocationEvent } from '@gatehouse/resource/revocation-contract';
import type { AdapterPayload } from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdapterClass } from '../../src/store/adapter-options.ts';
import { TokenAlreadyConsumedError, TokenNotFoundError } from '../../src/store/errors.ts';
import { grantSetKey, recordKey } from '../../src/store/keys.ts';

/** Access token TTL the contract's adapters are built with (the revocation event's horizon). */
export const CONTRACT_ACCESS_TOKEN_TTL = 900;
/** Tombstone TTL the contract's adapters are built with. */
export const CONTRACT_REVOKED_TTL = 3600;
/** `config.tokenStore` of the contract's stores. */
export const CONTRACT_TOKEN_STORE = {
  revokedTTL: CONTRACT_REVOKED_TTL,
  accessTokenTTL: CONTRACT_ACCESS_TOKEN_TTL,
} as const;

/** A backend under test: an adapter class plus the means to observe what it stored and announced. */
export interface ContractTarget {
  /** Built with {@link CONTRACT_REVOKED_TTL} / {@link CONTRACT_ACCESS_TOKEN_TTL}. */
  readonly Adapter: AdapterClass;
  /** Starts listening for revocation events; resolves once subscribed. */
  subscribe(): Promise<{ readonly events: RevocationEvent[]; close(): Promise<void> }>;
  /** Members and scores of the revoked set. */
  revokedEntries(): Promise<Map<string, number>>;
  /** Remaining TTL of a key in ms (-1: none, -2: absent). */
  ttlMs(key: string): Promise<number>;
  /** Member keys of a grant set. */
  grantMembers(grantId: string): Promise<string[]>;
  teardown(): Promise<void>;
}

const GRANT_BOUND = [
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
] as const;

const ALL_MODELS = [
  ...GRANT_BOUND,
  'Session',
  'ClientCredentials',
  'Client',
  'InitialAccessToken',
  'RegistrationAccessToken',
  'Interaction',
  'ReplayDetection',
  'PushedAuthorizationRequest',
  'Grant',
] as const;

const now = () => Math.floor(Date.now() / 1000);
const uniqueId = () => randomUUID().replaceAll('-', '');

function tokenPayload(kind: string, jti: string, extra: AdapterPayload = {}): AdapterPayload {
  return { iat: now(), exp: now() + 60, jti, kind, clientId: 'client-1', ...extra };
}

/** Polls `check` until it holds; a real store expires in its own time, so we wait, bounded. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 6_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/**
 * The oidc-provider adapter contract every Gatehouse store satisfies: the in-process store,
 * a standalone Redis and a Redis Cluster run the same cases.
 */
export function describeAdapterContract(name: string, setup: () => Promise<ContractTarget>): void {
  describe(`adapter contract: ${name}`, () => {
    let target: ContractTarget;
    const adapter = (model: string) => new target.Adapter(model);

    beforeAll(async () => {
      target = await setup();
    });
    afterAll(async () => {
      await target?.teardown();
    });

    it('returns undefined for unknown ids, uids and user codes', async () => {
      expect(await adapter('AccessToken').find(uniqueId())).toBeUndefined();
      expect(await adapter('Session').findByUid(uniqueId())).toBeUndefined();
      expect(await adapter('DeviceCode').findByUserCode(uniqueId())).toBeUndefined();
    });

    it.each(ALL_MODELS)('round-trips a %s payload', async (model) => {
      const id = uniqueId();
      const payload = tokenPayload(model, id, { scope: 'openid profile', nested: { a: [1, 2] } });
      await adapter(model).upsert(id, payload, 60);
      expect(await adapter(model).find(id)).toEqual(payload);
      // Models are separate namespaces: the same id under another model is a different record.
      expect(await adapter(model === 'Session' ? 'Grant' : 'Session').find(id)).toBeUndefined();
    });

    it.each(ALL_MODELS)('destroys a %s record', async (model) => {
      const id = uniqueId();
      await adapter(model).upsert(id, tokenPayload(model, id), 60);
      await adapter(model).destroy(id);
      expect(await adapter(model).find(id)).toBeUndefined();
    });

    it('expires records and their indexes after expiresIn', async () => {
      const session = uniqueId();
      const uid = uniqueId();
      const device = uniqueId();
      const userCode = uniqueId();
      await adapter('Session').upsert(session, tokenPayload('Session', session, { uid }), 1);
      await adapter('DeviceCode').upsert(device, tokenPayload('DeviceCode', device, { userCode }), 1);
      expect(await adapter('Session').findByUid(uid)).toBeDefined();
      await eventually(async () => (await adapter('Session').find(session)) === undefined);
      await eventually(async () => (await adapter('DeviceCode').find(device)) === undefined);
      expect(await adapter('Session').findByUid(uid)).toBeUndefined();
      expect(await adapter('DeviceCode').findByUserCode(userCode)).toBeUndefined();
    });

    it('keeps records saved without expiresIn (clients)', async () => {
      const client = uniqueId();
      const shortLived = uniqueId();
      await adapter('Client').upsert(client, { client_id: client, redirect_uris: ['https://a.example/cb'] });
      await adapter('Interaction').upsert(shortLived, tokenPayload('Interaction', shortLived), 1);
      expect(await target.ttlMs(recordKey('Client', client))).toBe(-1);
      await eventually(async () => (await adapter('Interaction').find(shortLived)) === undefined);
      expect(await adapter('Client').find(client)).toEqual({
        client_id: client,
        redirect_uris: ['https://a.example/cb'],
      });
    });

    it('never turns a zero or negative expiresIn into "no expiry"', async () => {
      const id = uniqueId();
      await adapter('Session').upsert(id, tokenPayload('Session', id, { uid: uniqueId() }), 0);
      const ttl = await target.ttlMs(recordKey('Session', id));
      expect(ttl === -2 || (ttl > 0 && ttl <= 1_000)).toBe(true);
    });

    describe('consume', () => {
      it('marks the record consumed and refuses a second consume with the grant to revoke', async () => {
        const id = uniqueId();
        const grantId = uniqueId();
        const codes = adapter('AuthorizationCode');
        await codes.upsert(id, tokenPayload('AuthorizationCode', id, { grantId }), 60);
        await codes.consume(id);
        const found = await codes.find(id);
        expect(found?.consumed).toBeTypeOf('number');
        expect(Math.abs(Number(found?.consumed) - now())).toBeLessThanOrEqual(2);

        const second = await codes.consume(id).catch((err: unknown) => err);
        expect(second).toBeInstanceOf(TokenAlreadyConsumedError);
        expect(second).toMatchObject({
          kind: 'AuthorizationCode',
          id,
          grantId,
          error: 'invalid_grant',
          status: 400,
        });
      });

      it('lets exactly one of 12 parallel consumes win (RFC 9700 §4.14.2)', async () => {
        const id = uniqueId();
        await adapter('RefreshToken').upsert(
          id,
          tokenPayload('RefreshToken', id, { grantId: uniqueId() }),
          60,
        );
        // Separate adapter instances, as separate server processes would have.
        const results = await Promise.allSettled(
          Array.from({ length: 12 }, () => adapter('RefreshToken').consume(id)),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const rejected = results.filter((r) => r.status === 'rejected');
        expect(rejected).toHaveLength(11);
        for (const r of rejected) expect(r.reason).toBeInstanceOf(TokenAlreadyConsumedError);
      });

      it('rejects consuming a record that does not exist', async () => {
        await expect(adapter('AuthorizationCode').consume(uniqueId())).rejects.toBeInstanceOf(
          TokenNotFoundError,
        );
      });

      it('stays consumed when a stale copy is saved again', async () => {
        const id = uniqueId();
        const codes = adapter('DeviceCode');
        const payload = tokenPayload('DeviceCode', id, { userCode: uniqueId() });
        await codes.upsert(id, payload, 60);
        await codes.consume(id);
        await codes.upsert(id, { ...payload, accountId: 'someone' }, 60);
        const found = await codes.find(id);
        expect(found?.accountId).toBe('someone');
        expect(found?.consumed).toBeTypeOf('number');
        await expect(codes.consume(id)).rejects.toBeInstanceOf(TokenAlreadyConsumedError);
      });

      it('consumes pushed authorization requests and pre-authorized codes once', async () => {
        const par = uniqueId();
        await adapter('PushedAuthorizationRequest').upsert(
          par,
          tokenPayload('PushedAuthorizationRequest', par, { request: 'eyJhbGciOiJub25lIn0.e30.' }),
          60,
        );
        await adapter('PushedAuthorizationRequest').consume(par);
        expect((await adapter('PushedAuthorizationRequest').find(par))?.consumed).toBeTypeOf('number');
        await expect(adapter('PushedAuthorizationRequest').consume(par)).rejects.toBeInstanceOf(
          TokenAlreadyConsumedError,
        );

        const code = uniqueId();
        const grantId = uniqueId();
        await adapter('PreAuthorizedCode').upsert(
          code,
          tokenPayload('PreAuthorizedCode', code, { grantId }),
          60,
        );
        await adapter('PreAuthorizedCode').consume(code);
        await expect(adapter('PreAuthorizedCode').consume(code)).rejects.toMatchObject({ grantId });
        await adapter('PreAuthorizedCode').revokeByGrantId(grantId);
        expect(await adapter('PreAuthorizedCode').find(code)).toBeUndefined();
      });
    });

    describe('indexes', () => {
      it('finds sessions by uid and device codes by user code', async () => {
        const session = uniqueId();
        const uid = uniqueId();
        await adapter('Session').upsert(session, tokenPayload('Session', session, { uid }), 60);
        expect((await adapter('Session').findByUid(uid))?.jti).toBe(session);

        const device = uniqueId();
        const userCode = uniqueId();
        await adapter('DeviceCode').upsert(device, tokenPayload('DeviceCode', device, { userCode }), 60);
        expect((await adapter('DeviceCode').findByUserCode(userCode))?.jti).toBe(device);
      });

      it('follows a session to its new id and uid', async () => {
        const oldId = uniqueId();
        const newId = uniqueId();
        const uid = uniqueId();
        const sessions = adapter('Session');
        await sessions.upsert(oldId, tokenPayload('Session', oldId, { uid }), 60);
        // Session.resetIdentifier(): destroy the old id, save the same uid under a new id.
        await sessions.destroy(oldId);
        await sessions.upsert(newId, tokenPayload('Session', newId, { uid }), 60);
        expect((await sessions.findByUid(uid))?.jti).toBe(newId);

        const otherUid = uniqueId();
        await sessions.upsert(newId, tokenPayload('Session', newId, { uid: otherUid }), 60);
        expect(await sessions.findByUid(uid)).toBeUndefined();
        expect((await sessions.findByUid(otherUid))?.jti).toBe(newId);
      });

      it('destroy removes the record and its uid, user code and grant entries', async () => {
        const session = uniqueId();
        const uid = uniqueId();
        await adapter('Session').upsert(session, tokenPayload('Session', session, { uid }), 60);
        await adapter('Session').destroy(session);
        expect(await adapter('Session').find(session)).toBeUndefined();
        expect(await adapter('Session').findByUid(uid)).toBeUndefined();

        const device = uniqueId();
        const userCode = uniqueId();
        const grantId = uniqueId();
        const other = uniqueId();
        await adapter('DeviceCode').upsert(
          device,
          tokenPayload('DeviceCode', device, { userCode, grantId }),
          60,
        );
        await adapter('AccessToken').upsert(other, tokenPayload('AccessToken', other, { grantId }), 60);
        expect(await target.grantMembers(grantId)).toHaveLength(2);
        await adapter('DeviceCode').destroy(device);
        expect(await adapter('DeviceCode').find(device)).toBeUndefined();
        expect(await adapter('DeviceCode').findByUserCode(userCode)).toBeUndefined();
        expect(await target.grantMembers(grantId)).toEqual([recordKey('AccessToken', other)]);
        // Destroying something that is not there is not an error.
        await adapter('DeviceCode').destroy(device);
      });

      it('joins a device code to its grant once the user approved it', async () => {
        const device = uniqueId();
        const grantId = uniqueId();
        const payload = tokenPayload('DeviceCode', device, { userCode: uniqueId() });
        await adapter('DeviceCode').upsert(device, payload, 60);
        await adapter('DeviceCode').upsert(device, { ...payload, grantId, accountId: 'a' }, 60);
        expect(await target.grantMembers(grantId)).toEqual([recordKey('DeviceCode', device)]);
      });

      it('keeps the grant index alive at least as long as its longest-lived member', async () => {
        const grantId = uniqueId();
        const [long, short, middle] = [uniqueId(), uniqueId(), uniqueId()];
        await adapter('RefreshToken').upsert(long, tokenPayload('RefreshToken', long, { grantId }), 3600);
        await adapter('AccessToken').upsert(short, tokenPayload('AccessToken', short, { grantId }), 60);
        await adapter('AuthorizationCode').upsert(
          middle,
          tokenPayload('AuthorizationCode', middle, { grantId }),
          600,
        );
        const setTTL = await target.ttlMs(grantSetKey(grantId));
        expect(setTTL).toBeGreaterThanOrEqual(await target.ttlMs(recordKey('RefreshToken', long)));
      });

      it('still revokes a long-lived member after a short-lived one expired', async () => {
        const grantId = uniqueId();
        const [short, long] = [uniqueId(), uniqueId()];
        await adapter('AccessToken').upsert(short, tokenPayload('AccessToken', short, { grantId }), 1);
        await adapter('RefreshToken').upsert(long, tokenPayload('RefreshToken', long, { grantId }), 4);
        await eventually(async () => (await adapter('AccessToken').find(short)) === undefined);
        await adapter('RefreshToken').revokeByGrantId(grantId);
        expect(await adapter('RefreshToken').find(long)).toBeUndefined();
      });
    });

    describe('revokeByGrantId', () => {
      it('removes the grant and every token of it, once, and announces it once', async () => {
        const grantId = uniqueId();
        const otherGrant = uniqueId();
        const userCode = uniqueId();
        await adapter('Grant').upsert(grantId, tokenPayload('Grant', grantId, { accountId: 'u1' }), 3600);
        const members = GRANT_BOUND.map((model) => ({ model, id: uniqueId() }));
        for (const { model, id } of members) {
          const extra = model === 'DeviceCode' ? { grantId, userCode } : { grantId };
          await adapter(model).upsert(id, tokenPayload(model, id, extra), 600);
        }
        const bystander = uniqueId();
        await adapter('AccessToken').upsert(
          bystander,
          tokenPayload('AccessToken', bystander, { grantId: otherGrant }),
          600,
        );
        // An interaction names the grant it works on but is not a token of it.
        const interaction = uniqueId();
        await adapter('Interaction').upsert(
          interaction,
          tokenPayload('Interaction', interaction, { grantId }),
          600,
        );

        const subscription = await target.subscribe();
        try {
          const before = now();
          // As oidc-provider's helpers/revoke.js does: every token model plus the Grant, in parallel.
          await Promise.all([
            ...GRANT_BOUND.map((model) => adapter(model).revokeByGrantId(grantId)),
            adapter('Grant').destroy(grantId),
          ]);

          expect(await adapter('Grant').find(grantId)).toBeUndefined();
          for (const { model, id } of members) expect(await adapter(model).find(id)).toBeUndefined();
          expect(await adapter('DeviceCode').findByUserCode(userCode)).toBeUndefined();
          expect(await adapter('AccessToken').find(bystander)).toBeDefined();
          expect(await adapter('Interaction').find(interaction)).toBeDefined();
          expect(await target.grantMembers(grantId)).toEqual([]);

          await eventually(async () => subscription.events.length > 0, 3_000);
          await sleep(200); // room for a duplicate to show up
          const mine = subscription.events.filter((event) => event.id === grantId);
          expect(mine).toHaveLength(1);
          const [event] = mine;
          expect(event?.type).toBe('grant');
          expect(event?.exp).toBeGreaterThanOrEqual(before + CONTRACT_ACCESS_TOKEN_TTL);
          expect(event?.exp).toBeLessThanOrEqual(now() + CONTRACT_ACCESS_TOKEN_TTL);

          const revoked = await target.revokedEntries();
          expect(revoked.get(`grant:${grantId}`)).toBe(event?.exp);
        } finally {
          await subscription.close();
        }
      });

      it('refuses tokens and grants saved for a revoked grant', async () => {
        const grantId = uniqueId();
        await adapter('Grant').upsert(grantId, tokenPayload('Grant', grantId), 3600);
        await adapter('RefreshToken').revokeByGrantId(grantId);

        // A request racing the revocation finishes after it: what it saves must stay unusable.
        const late = uniqueId();
        await adapter('RefreshToken').upsert(late, tokenPayload('RefreshToken', late, { grantId }), 600);
        expect(await adapter('RefreshToken').find(late)).toBeUndefined();
        await adapter('Grant').upsert(grantId, tokenPayload('Grant', grantId), 3600);
        expect(await adapter('Grant').find(grantId)).toBeUndefined();
        expect(await target.grantMembers(grantId)).toEqual([]);
      });

      it('leaves no readable token of a grant revoked while 30 of its tokens are being saved', async () => {
        const grantId = uniqueId();
        await adapter('Grant').upsert(grantId, tokenPayload('Grant', grantId), 3600);
        const ids = Array.from({ length: 30 }, uniqueId);
        const save = (id: string) =>
          adapter('RefreshToken').upsert(id, tokenPayload('RefreshToken', id, { grantId }), 600);
        // Saves and the revocation in flight together, the revocation sent among the saves.
        await Promise.all([
          ...ids.slice(0, 15).map(save),
          adapter('RefreshToken').revokeByGrantId(grantId),
          ...ids.slice(15).map(save),
        ]);
        for (const id of ids) expect(await adapter('RefreshToken').find(id)).toBeUndefined();
        expect(await adapter('Grant').find(grantId)).toBeUndefined();
      });

      it('prunes revoked-set entries whose tokens expired', async () => {
        const revoked = await target.revokedEntries();
        for (const score of revoked.values()) expect(score).toBeGreaterThanOrEqual(now() - 1);
      });
    });
  });
}
