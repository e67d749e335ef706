import { randomBytes, randomUUID } from 'node:crypto';
import { createStore } from '@gatehouse/server/internal/store';
import { workerMain } from '../support/child.ts';
import { bytesByPrefix, deleteKeys, redisMemory } from '../support/redis-info.ts';

export interface StoreGrantsInput {
  readonly redisUrl: string;
  /** Live grants at each measurement, ascending: grants are added up to each count in turn. */
  readonly counts: readonly number[];
}

export interface StoreGrantsPoint {
  readonly grants: number;
  /** used_memory growth over the empty baseline, per grant. */
  readonly usedMemoryPerGrant: number;
  readonly keysPerGrant: number;
  /** Average MEMORY USAGE per key prefix (sampled) and how many keys each prefix has. */
  readonly byPrefix: Record<string, { keys: number; avgBytes: number }>;
  readonly seconds: number;
}

const TTL = 14 * 24 * 3600;
const AUDIENCE = 'http://localhost:4001';
const SCOPE = 'openid recipes:read';
/** oidc-provider's ids: 43 characters of base64url. */
const nanoid = () => randomBytes(32).toString('base64url');

/**
 * Writes live grants into a private Redis through the Redis adapter, the code path oidc-provider
 * uses on a sign-in (Grant, Session with its uid index, the authorization code, its consume, the
 * refresh token), with payloads of the shape and size a real sign-in of the `spa` client leaves
 * (scenario 7's sign-ins measure the same records). The codes' own keys are then deleted, as
 * their 60-second TTL would: what is measured is what a grant costs while it lives.
 * Far faster than full sign-ins, so 100,000 grants fit in a bench run.
 */
workerMain<StoreGrantsInput, StoreGrantsPoint[]>(async ({ redisUrl, counts }) => {
  const store = await createStore({
    redis: { kind: 'standalone', url: redisUrl },
    tokenStore: { revokedTTL: TTL, accessTokenTTL: 900 },
  });
  const Session = new store.Adapter('Session');
  const Grant = new store.Adapter('Grant');
  const Code = new store.Adapter('AuthorizationCode');
  const RefreshToken = new store.Adapter('RefreshToken');

  async function signIn(): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    const accountId = randomUUID();
    const [grantId, sessionId, uid, sid, code, token] = [
      nanoid(),
      nanoid(),
      nanoid(),
      nanoid(),
      nanoid(),
      nanoid(),
    ];
    const at = { iat: now, exp: now + TTL };
    await Grant.upsert(
      grantId,
      {
        ...at,
        accountId,
        clientId: 'spa',
        kind: 'Grant',
        jti: grantId,
        openid: { scope: SCOPE },
        resources: { [AUDIENCE]: 'recipes:read' },
      } as never,
      TTL,
    );
    await Session.upsert(
      sessionId,
      {
        ...at,
        uid,
        accountId,
        loginTs: now,
        authorizations: { spa: { sid, grantId } },
        kind: 'Session',
        jti: sessionId,
      },
      TTL,
    );
    const common = {
      accountId,
      authTime: now,
      expiresWithSession: true,
      grantId,
      resource: AUDIENCE,
      scope: SCOPE,
    };
    await Code.upsert(
      code,
      {
        iat: now,
        exp: now + 60,
        ...common,
        kind: 'AuthorizationCode',
        jti: code,
        clientId: 'spa',
        sessionUid: uid,
      },
      60,
    );
    await Code.consume(code);
    await RefreshToken.upsert(
      token,
      {
        ...at,
        ...common,
        gty: 'authorization_code',
        rotations: 0,
        sessionUid: uid,
        kind: 'RefreshToken',
        jti: token,
        clientId: 'spa',
        iiat: now,
      },
      TTL,
    );
  }

  async function signIns(count: number): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < count) {
          next++;
          await signIn();
        }
      }),
    );
  }

  try {
    // Warm-up (scripts loaded, dicts grown once), then an empty baseline.
    await signIns(200);
    await deleteKeys(redisUrl, () => true);
    const baseline = await redisMemory(redisUrl);
    const points: StoreGrantsPoint[] = [];
    let written = 0;
    const started = performance.now();
    for (const count of counts) {
      await signIns(count - written);
      written = count;
      await deleteKeys(redisUrl, (key) => key.startsWith('gatehouse:AuthorizationCode:'));
      const live = await redisMemory(redisUrl);
      points.push({
        grants: count,
        usedMemoryPerGrant: Math.round((live.usedMemory - baseline.usedMemory) / count),
        keysPerGrant: Math.round(((live.keys - baseline.keys) / count) * 100) / 100,
        byPrefix: await bytesByPrefix(redisUrl),
        seconds: Math.round((performance.now() - started) / 100) / 10,
      });
    }
    return points;
  } finally {
    await store.close();
  }
});
