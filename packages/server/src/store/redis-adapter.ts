import {
  REVOCATION_CHANNEL,
  REVOKED_KEY,
  type RevocationEvent,
  revokedMember,
} from '@gatehouse/resource/revocation-contract';
import type { Cluster, Redis } from 'ioredis';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import {
  type AdapterClass,
  type AdapterOptions,
  epochSeconds,
  INDEX_TTL_SLACK,
  recordTTL,
} from './adapter-options.ts';
import { TokenAlreadyConsumedError, TokenNotFoundError } from './errors.ts';
import {
  grantSetKey,
  grantTombstoneKey,
  idOfRecordKey,
  indexesOf,
  legacyGrantSetKey,
  type RecordIndexes,
  recordKey,
  uidKey,
  userCodeKey,
} from './keys.ts';
import {
  ADMIT_TO_GRANT,
  CONSUME_RECORD,
  DELETE_INDEX_IF_POINTS_TO,
  DESTROY_RECORD,
  RECORD_REVOCATION,
  REVOKE_GRANT,
  runScript,
  UPSERT_RECORD,
} from './redis-scripts.ts';
import { unavailableOnFailure } from './unavailable-on-failure.ts';

/** Reads `{flag, grantId, uid, userCode}` replies of UPSERT_RECORD / DESTROY_RECORD. */
function readIndexReply(reply: unknown): { flag: number; old: RecordIndexes } {
  const [flag, grantId, uid, userCode] = Array.isArray(reply) ? reply : [];
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  return { flag: Number(flag), old: { grantId: text(grantId), uid: text(uid), userCode: text(userCode) } };
}

/**
 * Builds the oidc-provider adapter class over one shared connection (standalone or cluster).
 * Key scheme and slot layout: see keys.ts.
 *
 * @example
 * const Adapter = createRedisAdapterClass(conn, { revokedTTL: 1_209_600, accessTokenTTL: 900 });
 * new Provider(issuer, { adapter: Adapter });
 */
export function createRedisAdapterClass(conn: Redis | Cluster, options: AdapterOptions): AdapterClass {
  const deleteIndex = (key: string, id: string) => runScript(conn, DELETE_INDEX_IF_POINTS_TO, [key], [id]);

  /** Deletes one record and the uid/user-code pointers that still point at it. */
  async function destroyRecord(key: string, id: string): Promise<RecordIndexes> {
    const { old } = readIndexReply(await runScript(conn, DESTROY_RECORD, [key], []));
    await Promise.all([
      old.uid === undefined ? undefined : deleteIndex(uidKey(old.uid), id),
      old.userCode === undefined ? undefined : deleteIndex(userCodeKey(old.userCode), id),
    ]);
    return old;
  }

  async function announceRevocation(grantId: string): Promise<void> {
    const now = epochSeconds();
    const event: RevocationEvent = { type: 'grant', id: grantId, exp: now + options.accessTokenTTL };
    await runScript(
      conn,
      RECORD_REVOCATION,
      [REVOKED_KEY],
      [now, event.exp, revokedMember(event), REVOCATION_CHANNEL, JSON.stringify(event)],
    );
  }

  return class RedisAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      await unavailableOnFailure(async () => {
        const key = recordKey(this.model, id);
        const ttl = recordTTL(expiresIn);
        const indexTTL = ttl < 0 ? -1 : ttl + INDEX_TTL_SLACK;
        const next = indexesOf(this.model, payload);

        if (next.grantId !== undefined) {
          // Join the grant before the record exists: a revocation then either sees this key in
          // the set (and deletes it) or has left a tombstone that refuses it here.
          const admitted = await runScript(
            conn,
            ADMIT_TO_GRANT,
            [grantSetKey(next.grantId), grantTombstoneKey(next.grantId)],
            [key, indexTTL],
          );
          if (Number(admitted) !== 1) return;
        }

        // A Grant record shares its grant's slot, so its tombstone check is part of the write.
        const keys = this.model === 'Grant' ? [key, grantTombstoneKey(id)] : [key];
        const consumed = typeof payload.consumed === 'number' ? String(payload.consumed) : '';
        const reply = await runScript(conn, UPSERT_RECORD, keys, [
          JSON.stringify(payload),
          ttl,
          next.grantId ?? '',
          next.uid ?? '',
          next.userCode ?? '',
          consumed,
        ]);
        const { flag, old } = readIndexReply(reply);
        if (flag !== 1) return;

        if (next.grantId !== undefined && (await conn.exists(grantTombstoneKey(next.grantId))) === 1) {
          // Revoked between admission and write: the revocation may have deleted the members
          // before this record existed, so delete it here. Never readable, never usable.
          await destroyRecord(key, id);
          return;
        }

        const index = (pointer: string) =>
          indexTTL < 0 ? conn.set(pointer, id) : conn.set(pointer, id, 'EX', indexTTL);
        await Promise.all([
          next.uid === undefined ? undefined : index(uidKey(next.uid)),
          next.userCode === undefined ? undefined : index(userCodeKey(next.userCode)),
          // Indexes of the previous version of this record that the new one no longer uses.
          old.grantId !== undefined && old.grantId !== next.grantId
            ? conn.srem(grantSetKey(old.grantId), key)
            : undefined,
          old.uid !== undefined && old.uid !== next.uid ? deleteIndex(uidKey(old.uid), id) : undefined,
          old.userCode !== undefined && old.userCode !== next.userCode
            ? deleteIndex(userCodeKey(old.userCode), id)
            : undefined,
        ]);
      });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return unavailableOnFailure(async () => {
        const [payload, consumed] = await conn.hmget(recordKey(this.model, id), 'payload', 'consumed');
        if (payload === null || payload === undefined) return undefined;
        const record = JSON.parse(payload) as AdapterPayload;
        if (consumed !== null && consumed !== undefined) record.consumed = Number(consumed);
        return record;
      });
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const id = await unavailableOnFailure(() => conn.get(uidKey(uid)));
      return id === null ? undefined : this.find(id);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const id = await unavailableOnFailure(() => conn.get(userCodeKey(userCode)));
      return id === null ? undefined : this.find(id);
    }

    async consume(id: string): Promise<void> {
      const reply = await unavailableOnFailure(() =>
        runScript(conn, CONSUME_RECORD, [recordKey(this.model, id)], [epochSeconds()]),
      );
      const [status, grantId] = Array.isArray(reply) ? reply : [];
      if (Number(status) === 1) return;
      // RFC 6749 §4.1.2 / RFC 9700 §4.14.2: a second redemption must fail, and the caller
      // needs the grant to revoke what the first redemption issued.
      if (Number(status) === 0) {
        throw new TokenAlreadyConsumedError(
          this.model,
          id,
          typeof grantId === 'string' && grantId !== '' ? grantId : undefined,
        );
      }
      throw new TokenNotFoundError(this.model, id);
    }

    async destroy(id: string): Promise<void> {
      await unavailableOnFailure(async () => {
        const key = recordKey(this.model, id);
        const old = await destroyRecord(key, id);
        if (old.grantId !== undefined) await conn.srem(grantSetKey(old.grantId), key);
      });
    }

    /**
     * Revokes the whole grant, whichever model it is called on: oidc-provider calls it once per
     * token model in parallel (helpers/revoke.js); the first call does the work and announces
     * it, the others find an empty set and an existing tombstone.
     */
    async revokeByGrantId(grantId: string): Promise<void> {
      await unavailableOnFailure(async () => {
        const reply = await runScript(
          conn,
          REVOKE_GRANT,
          [
            grantSetKey(grantId),
            legacyGrantSetKey(grantId),
            recordKey('Grant', grantId),
            grantTombstoneKey(grantId),
          ],
          [options.revokedTTL],
        );
        const [fresh, ...members] = Array.isArray(reply) ? reply : [];
        // Cleanup only: with the Grant record gone no member passes the grant check any more.
        await Promise.all(
          members
            .filter((member): member is string => typeof member === 'string')
            .map((member) => destroyRecord(member, idOfRecordKey(member))),
        );
        if (Number(fresh) === 1) await announceRevocation(grantId);
      });
    }
  };
}
