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
import { BoundedMemo } from './bounded-memo.ts';
import { TokenAlreadyConsumedError, TokenNotFoundError } from './errors.ts';
import {
  grantMember,
  grantSetKey,
  grantTombstoneKey,
  idOfRecordKey,
  indexesOf,
  legacyGrantSetKey,
  mayBeIndexed,
  type RecordIndexes,
  recordKey,
  recordKeyOfMember,
  uidKey,
  userCodeKey,
} from './keys.ts';
import { decodeLegacyRecord, decodeRecord, encodeRecord } from './record-encoding.ts';
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

/**
 * Reads `{flag, grantId, uid, userCode}` replies of UPSERT_RECORD / DESTROY_RECORD: the fields as
 * the stored payload has them, kept only where `model` indexes them (as {@link indexesOf}).
 */
function readIndexReply(model: string, reply: unknown): { flag: number; old: RecordIndexes } {
  const [flag, grantId, uid, userCode] = Array.isArray(reply) ? reply : [];
  return { flag: Number(flag), old: indexesOf(model, { grantId, uid, userCode }) };
}

function isWrongType(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('WRONGTYPE');
}

/**
 * The payload stored at `key` (a record key of any model), in either encoding: for tests and
 * tools that look at Redis directly. The adapter's find() is the same read.
 */
export async function readStoredRecord(
  conn: Redis | Cluster,
  key: string,
): Promise<AdapterPayload | undefined> {
  const model = key.slice('gatehouse:'.length, key.indexOf(':{'));
  const id = idOfRecordKey(key);
  try {
    const stored = await conn.get(key);
    return stored === null ? undefined : decodeRecord(model, id, stored);
  } catch (err) {
    // A hash: written by a release before the string encoding.
    if (!isWrongType(err)) throw err;
    const [payload, consumed] = await conn.hmget(key, 'payload', 'consumed');
    return payload === null || payload === undefined ? undefined : decodeLegacyRecord(payload, consumed);
  }
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
  // One connection to one server runs what it is sent in order: a record's write and its grant
  // admission can then go out together (one round trip) and still run write-first. A Cluster
  // sends them to different nodes, so there the admission waits for the write.
  const inOrder = !('isCluster' in conn && conn.isCluster);
  // Where each uid / user-code pointer pointed last, so findByUid reads it and its record at once
  // (10,000 pointers: about 2 MB).
  const pointers = new BoundedMemo(10_000);

  /**
   * Deletes one record and the uid/user-code pointers that still point at it. With
   * `awaitPointers: false` the pointers' deletion is sent but not waited for: see destroy().
   */
  async function destroyRecord(
    key: string,
    id: string,
    { awaitPointers }: { readonly awaitPointers: boolean } = { awaitPointers: true },
  ): Promise<RecordIndexes> {
    const model = key.slice('gatehouse:'.length, key.indexOf(':{'));
    if (!mayBeIndexed(model)) {
      // Nothing points at it: one DEL (any encoding) instead of a script that reads it first.
      await conn.del(key);
      return indexesOf(model, {});
    }
    const { old } = readIndexReply(model, await runScript(conn, DESTROY_RECORD, [key], []));
    if (old.uid !== undefined) pointers.forget(uidKey(old.uid), id);
    if (old.userCode !== undefined) pointers.forget(userCodeKey(old.userCode), id);
    const pointersGone = Promise.all([
      old.uid === undefined ? undefined : deleteIndex(uidKey(old.uid), id),
      old.userCode === undefined ? undefined : deleteIndex(userCodeKey(old.userCode), id),
    ]);
    if (awaitPointers) await pointersGone;
    // A pointer left behind points at a record that is gone: it finds nothing, and expires.
    else pointersGone.catch(() => {});
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
        const { flags, json } = encodeRecord(this.model, id, payload);

        // A Grant record shares its grant's slot, so its tombstone check is part of the write.
        const keys = this.model === 'Grant' ? [key, grantTombstoneKey(id)] : [key];
        const consumed = typeof payload.consumed === 'number' ? String(payload.consumed) : '';
        let reordered = false;
        const write = () =>
          runScript(conn, UPSERT_RECORD, keys, [flags, json, ttl, consumed], () => {
            reordered = true;
          });
        // The record joins its grant after it is written: a revocation then either finds it in the
        // set (and deletes it) or has left the tombstone that refuses the admission, and the
        // record is deleted here. Either way a token of a revoked grant never outlives this call.
        const admit = (grantId: string) =>
          runScript(
            conn,
            ADMIT_TO_GRANT,
            [grantSetKey(grantId), grantTombstoneKey(grantId)],
            [grantMember(key), indexTTL],
          );
        const index = (pointer: string) => {
          pointers.set(pointer, id);
          return indexTTL < 0 ? conn.set(pointer, id) : conn.set(pointer, id, 'EX', indexTTL);
        };
        const setPointers = () =>
          Promise.all([
            next.uid === undefined ? undefined : index(uidKey(next.uid)),
            next.userCode === undefined ? undefined : index(userCodeKey(next.userCode)),
          ]);
        // A record that no tombstone can refuse (none of a grant) is always written, so on one
        // connection its pointers go out with it (a Session and its uid: one round trip) and
        // Redis runs them right after the write. Re-sent after NOSCRIPT, the write lands one
        // round trip after its pointers; a pointer to a new id meanwhile finds no record, as a
        // lookup just before this upsert did. A Cluster keeps the pointers after the write.
        const pointersWithWrite = inOrder && next.grantId === undefined && this.model !== 'Grant';
        let reply: unknown;
        let admitted: unknown = 1;
        if (pointersWithWrite) [reply] = await Promise.all([write(), setPointers()]);
        else if (next.grantId === undefined) reply = await write();
        else if (inOrder) [reply, admitted] = await Promise.all([write(), admit(next.grantId)]);
        else {
          reply = await write();
          admitted = await admit(next.grantId);
        }
        const { flag, old } = readIndexReply(this.model, reply);
        if (flag !== 1) return;

        if (
          next.grantId !== undefined &&
          (Number(admitted) !== 1 ||
            // The write was re-sent with its script (NOSCRIPT) and so ran after the admission:
            // check the tombstone once more, as a write after a revocation must not survive.
            (reordered && (await conn.exists(grantTombstoneKey(next.grantId))) === 1))
        ) {
          await destroyRecord(key, id);
          if (old.grantId !== undefined && old.grantId !== next.grantId) {
            await conn.srem(grantSetKey(old.grantId), grantMember(key), key);
          }
          return;
        }

        await Promise.all([
          pointersWithWrite ? undefined : setPointers(),
          // Indexes of the previous version of this record that the new one no longer uses.
          old.grantId !== undefined && old.grantId !== next.grantId
            ? conn.srem(grantSetKey(old.grantId), grantMember(key), key)
            : undefined,
          old.uid !== undefined && old.uid !== next.uid ? deleteIndex(uidKey(old.uid), id) : undefined,
          old.userCode !== undefined && old.userCode !== next.userCode
            ? deleteIndex(userCodeKey(old.userCode), id)
            : undefined,
        ]);
      });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return unavailableOnFailure(() => readStoredRecord(conn, recordKey(this.model, id)));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return unavailableOnFailure(() => this.#findByPointer(uidKey(uid)));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return unavailableOnFailure(() => this.#findByPointer(userCodeKey(userCode)));
    }

    /**
     * The record a pointer names. When this process knows where the pointer pointed last, the
     * pointer and that record are read in one tick (one round trip, auto-pipelined) and the
     * record is served only if the pointer still names it; otherwise (or when it moved) the
     * record is read after the pointer, as it always was. Same two commands either way.
     */
    async #findByPointer(pointer: string): Promise<AdapterPayload | undefined> {
      const guess = pointers.get(pointer);
      const [id, guessed] = await Promise.all([
        conn.get(pointer),
        guess === undefined ? undefined : readStoredRecord(conn, recordKey(this.model, guess)),
      ]);
      if (id === null) {
        if (guess !== undefined) pointers.forget(pointer, guess);
        return undefined;
      }
      if (id === guess) return guessed;
      pointers.set(pointer, id);
      return readStoredRecord(conn, recordKey(this.model, id));
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
        throw new TokenAlreadyConsumedError(this.model, id, indexesOf(this.model, { grantId }).grantId);
      }
      throw new TokenNotFoundError(this.model, id);
    }

    /**
     * The record is gone when this resolves; its pointers' deletion is only sent by then. A
     * pointer and every later command on it (a lookup, the uid's move to a session's new id as
     * a sign-in saves it) go to one connection of one node, which runs them in the order sent,
     * so nothing this process does sees the pointer after this call; and a sign-in's session
     * write then shares the deletion's round trip instead of waiting for it.
     */
    async destroy(id: string): Promise<void> {
      await unavailableOnFailure(async () => {
        const key = recordKey(this.model, id);
        if (this.model === 'Interaction' && inOrder && conn.status === 'ready') {
          // oidc-provider deletes an interaction as it takes its result (resume), then reads on:
          // the DEL is sent, not waited for, so it shares the round trip of the next command.
          // Redis runs both in order on this one connection, so nothing this process sends
          // later finds the interaction, and the response goes out only after later commands
          // were answered. A DEL that fails leaves what a failed DEL always left: the record,
          // until its expiry, behind a resume cookie the response clears.
          conn.del(key).catch(() => {});
          return;
        }
        const old = await destroyRecord(key, id, { awaitPointers: false });
        if (old.grantId !== undefined) await conn.srem(grantSetKey(old.grantId), grantMember(key), key);
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
            .map(recordKeyOfMember)
            .map((key) => destroyRecord(key, idOfRecordKey(key))),
        );
        if (Number(fresh) === 1) await announceRevocation(grantId);
      });
    }
  };
}
