import {
  parseRevokedMember,
  type RevocationEvent,
  type RevocationSource,
  revokedMember,
} from '@gatehouse/resource/revocation-contract';
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
  type RecordIndexes,
  recordKey,
  uidKey,
  userCodeKey,
} from './keys.ts';

/**
 * In-process store for development, with the Redis adapter's semantics (the contract suite
 * runs on both). Unlike oidc-provider's LRU-bounded memory adapter it never evicts a live
 * entry: a dropped session or grant would look like a random logout. Entries expire lazily on
 * read and in a periodic sweep. Each store holds its own entries (two servers in one process
 * share nothing); everything is lost when the process exits.
 */

interface StoredRecord extends RecordIndexes {
  readonly kind: 'record';
  /** JSON, as in Redis: every find() returns a fresh object, never a shared mutable one. */
  readonly payload: string;
  consumed: number | undefined;
}
interface StoredSet {
  readonly kind: 'set';
  readonly members: Set<string>;
}
interface StoredPointer {
  readonly kind: 'pointer';
  readonly value: string;
}
type Stored = StoredRecord | StoredSet | StoredPointer;

interface Entry {
  readonly value: Stored;
  /** Epoch milliseconds; `Infinity` for entries without TTL. */
  expiresAt: number;
}

function expiresAt(ttlSeconds: number): number {
  return ttlSeconds < 0 ? Number.POSITIVE_INFINITY : Date.now() + ttlSeconds * 1000;
}

/** The in-process adapter class; `inspect` shows what the store holds under a key (tests). */
export interface MemoryAdapterClass extends AdapterClass {
  /** Remaining TTL in ms (-1 without TTL) and, for a grant set, its member keys. */
  inspect(key: string): { ttlMs: number; members: string[] } | undefined;
}

/** The in-process token store of one server instance. */
export interface MemoryTokenStore {
  /** oidc-provider's `adapter` option over this store's entries. */
  readonly Adapter: MemoryAdapterClass;
  /**
   * This store's revocations, for a resource verifier in the same process (the demo API in
   * `pnpm start` without Redis): what REVOCATION_CHANNEL and REVOKED_KEY carry with Redis.
   */
  readonly revocations: RevocationSource;
  /** Stops the periodic sweep; the entries stay readable. */
  close(): void;
}

const SWEEP_INTERVAL_MS = 60_000;

/**
 * Builds a fresh in-process token store.
 *
 * @example
 * const store = createMemoryTokenStore({ revokedTTL: 1_209_600, accessTokenTTL: 900 });
 * new Provider(issuer, { adapter: store.Adapter });
 */
export function createMemoryTokenStore(options: AdapterOptions): MemoryTokenStore {
  const entries = new Map<string, Entry>();
  /** `grant:<id>` → exp, the in-process counterpart of REVOKED_KEY. */
  const revoked = new Map<string, number>();
  const listeners = new Set<(event: RevocationEvent) => void>();

  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
  }, SWEEP_INTERVAL_MS);
  // The sweep must never keep a finished process (CLI, tests) alive.
  sweeper.unref();

  function read(key: string): Stored | undefined {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  function readRecord(key: string): StoredRecord | undefined {
    const value = read(key);
    return value?.kind === 'record' ? value : undefined;
  }

  function readPointer(key: string): string | undefined {
    const value = read(key);
    return value?.kind === 'pointer' ? value.value : undefined;
  }

  function deletePointerIfPointsTo(key: string, id: string): void {
    if (readPointer(key) === id) entries.delete(key);
  }

  function removeFromGrantSet(grantId: string, key: string): void {
    const set = read(grantSetKey(grantId));
    if (set?.kind === 'set') set.members.delete(key);
  }

  /** Deletes a record and the pointers that still point at it; returns what it was indexed by. */
  function destroyRecord(key: string, id: string): RecordIndexes | undefined {
    const record = readRecord(key);
    entries.delete(key);
    if (record === undefined) return undefined;
    if (record.uid !== undefined) deletePointerIfPointsTo(uidKey(record.uid), id);
    if (record.userCode !== undefined) deletePointerIfPointsTo(userCodeKey(record.userCode), id);
    return record;
  }

  /** Same contract as the Redis ADMIT_TO_GRANT script: false when the grant is revoked. */
  function admitToGrant(grantId: string, key: string, ttl: number): boolean {
    if (read(grantTombstoneKey(grantId)) !== undefined) return false;
    const setKey = grantSetKey(grantId);
    const existing = entries.get(setKey);
    const set = read(setKey);
    if (set?.kind === 'set' && existing !== undefined) {
      set.members.add(key);
      existing.expiresAt = Math.max(existing.expiresAt, expiresAt(ttl));
    } else {
      entries.set(setKey, { value: { kind: 'set', members: new Set([key]) }, expiresAt: expiresAt(ttl) });
    }
    return true;
  }

  /** Records a revocation and tells the listeners, as RECORD_REVOCATION does in Redis. */
  function announceRevocation(grantId: string): void {
    const now = epochSeconds();
    const event: RevocationEvent = { type: 'grant', id: grantId, exp: now + options.accessTokenTTL };
    for (const [member, exp] of revoked) if (exp < now) revoked.delete(member);
    revoked.set(revokedMember(event), event.exp);
    for (const listener of listeners) listener(event);
  }

  class MemoryAdapter implements Adapter {
    static inspect(key: string): { ttlMs: number; members: string[] } | undefined {
      const value = read(key);
      const entry = entries.get(key);
      if (value === undefined || entry === undefined) return undefined;
      return {
        ttlMs: Number.isFinite(entry.expiresAt) ? entry.expiresAt - Date.now() : -1,
        members: value.kind === 'set' ? [...value.members] : [],
      };
    }

    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const key = recordKey(this.model, id);
      const ttl = recordTTL(expiresIn);
      const indexTTL = ttl < 0 ? -1 : ttl + INDEX_TTL_SLACK;
      const next = indexesOf(this.model, payload);

      if (next.grantId !== undefined && !admitToGrant(next.grantId, key, indexTTL)) return;
      if (this.model === 'Grant' && read(grantTombstoneKey(id)) !== undefined) return;

      const old = readRecord(key);
      // Consumption is one-way: a re-save of a copy read before consume() keeps it consumed.
      const consumed = old?.consumed ?? (typeof payload.consumed === 'number' ? payload.consumed : undefined);
      entries.set(key, {
        value: { kind: 'record', payload: JSON.stringify(payload), consumed, ...next },
        expiresAt: expiresAt(ttl),
      });

      const pointer = (pointerKey: string) =>
        entries.set(pointerKey, { value: { kind: 'pointer', value: id }, expiresAt: expiresAt(indexTTL) });
      if (next.uid !== undefined) pointer(uidKey(next.uid));
      if (next.userCode !== undefined) pointer(userCodeKey(next.userCode));
      if (old?.grantId !== undefined && old.grantId !== next.grantId) removeFromGrantSet(old.grantId, key);
      if (old?.uid !== undefined && old.uid !== next.uid) deletePointerIfPointsTo(uidKey(old.uid), id);
      if (old?.userCode !== undefined && old.userCode !== next.userCode) {
        deletePointerIfPointsTo(userCodeKey(old.userCode), id);
      }
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const record = readRecord(recordKey(this.model, id));
      if (record === undefined) return undefined;
      const payload = JSON.parse(record.payload) as AdapterPayload;
      if (record.consumed !== undefined) payload.consumed = record.consumed;
      return payload;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const id = readPointer(uidKey(uid));
      return id === undefined ? undefined : this.find(id);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const id = readPointer(userCodeKey(userCode));
      return id === undefined ? undefined : this.find(id);
    }

    async consume(id: string): Promise<void> {
      const record = readRecord(recordKey(this.model, id));
      if (record === undefined) throw new TokenNotFoundError(this.model, id);
      // RFC 6749 §4.1.2 / RFC 9700 §4.14.2: a second redemption must fail.
      if (record.consumed !== undefined) throw new TokenAlreadyConsumedError(this.model, id, record.grantId);
      record.consumed = epochSeconds();
    }

    async destroy(id: string): Promise<void> {
      const key = recordKey(this.model, id);
      const old = destroyRecord(key, id);
      if (old?.grantId !== undefined) removeFromGrantSet(old.grantId, key);
    }

    /** Revokes the whole grant, whichever model it is called on (see RedisAdapter). */
    async revokeByGrantId(grantId: string): Promise<void> {
      const set = read(grantSetKey(grantId));
      entries.delete(grantSetKey(grantId));
      entries.delete(recordKey('Grant', grantId));
      const fresh = read(grantTombstoneKey(grantId)) === undefined;
      if (fresh) {
        entries.set(grantTombstoneKey(grantId), {
          value: { kind: 'pointer', value: '1' },
          expiresAt: expiresAt(options.revokedTTL),
        });
      }
      if (set?.kind === 'set') for (const member of set.members) destroyRecord(member, idOfRecordKey(member));
      if (fresh) announceRevocation(grantId);
    }
  }

  return {
    Adapter: MemoryAdapter,
    revocations: {
      subscribe(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      // Revocations whose tokens may still be alive, as REVOKED_KEY holds them in Redis.
      async list() {
        const now = epochSeconds();
        return [...revoked].flatMap(([member, exp]) => {
          const event = exp >= now ? parseRevokedMember(member, exp) : undefined;
          return event ? [event] : [];
        });
      },
    },
    close() {
      clearInterval(sweeper);
    },
  };
}
