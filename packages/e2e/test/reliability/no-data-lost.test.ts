import type { GatehouseServer } from '@gatehouse/server';
import { createAccountStore } from '@gatehouse/server/internal/accounts';
import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { basic } from '@gatehouse/testkit/clients';
import { CookieJar, postForm } from '@gatehouse/testkit/forms';
import { type GatehouseProcess, startGatehouseProcess } from '@gatehouse/testkit/process';
import { accountFor, refreshSpa, signInSpa, startInteractionDriver } from '@gatehouse/testkit/sign-in';
import { Redis } from 'ioredis';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REGISTRATION_TOKEN = 'reliability-registration-token-0123';

/**
 * The production recommendation (README): AOF with `appendfsync everysec` and
 * `maxmemory-policy noeviction`. A SIGTERM'd Redis writes and fsyncs the AOF before exiting,
 * so this graceful restart is deterministic even with everysec (its one-second window only
 * applies to a machine crash); `appendfsync always` is not needed to make the test stable.
 */
const PRODUCTION_REDIS = [
  '--appendonly',
  'yes',
  '--appendfsync',
  'everysec',
  '--maxmemory-policy',
  'noeviction',
];

describe('Redis restarted (SIGTERM, same data dir) with the recommended persistence: nothing is lost', () => {
  let redis: RedisProcess;
  let gh: GatehouseProcess | undefined;
  let driver: GatehouseServer | undefined;

  beforeAll(async () => {
    redis = await startRedis({ args: PRODUCTION_REDIS });
  });
  afterAll(async () => {
    await driver?.close();
    await gh?.cleanup();
    await redis?.cleanup();
  });

  it('keeps signing keys, sessions, refresh tokens, registered clients and accounts across a Redis and Gatehouse restart', async () => {
    const env = { GATEHOUSE_REGISTRATION_TOKEN: REGISTRATION_TOKEN };
    gh = await startGatehouseProcess({ redisUrl: redis.url, env });
    const { port, issuer } = gh;
    driver = await startInteractionDriver({ issuer, redisUrl: redis.url });

    // --- before: issue one of everything ---
    const jwksBefore = (await (await fetch(`${gh.url}/jwks`)).json()) as JSONWebKeySet;
    const jar = new CookieJar();
    const { token } = await signInSpa(driver, { jar, account: 'persisted-user' });
    expect(token?.status).toBe(200);
    const refreshToken = String(token?.body.refresh_token);
    const accessToken = String(token?.body.access_token);

    // A client stored through the adapter (Client model) by RFC 7591 registration.
    const registration = await fetch(`${gh.url}/register/client`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${REGISTRATION_TOKEN}` },
      body: JSON.stringify({
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'recipes:read',
      }),
    });
    expect(registration.status).toBe(201);
    const client = (await registration.json()) as { client_id: string; client_secret: string };

    // An account (the account store on the same Redis; the sign-in pages read it).
    const accountsConn = new Redis(redis.url);
    const accounts = createAccountStore({ kind: 'redis', conn: accountsConn });
    await accounts.create({ email: 'persisted@example.com', password: 'correct horse battery staple' });
    accountsConn.disconnect();

    // --- restart everything: Gatehouse stops, Redis gets SIGTERM and starts on the same dir ---
    await driver.close();
    driver = undefined;
    expect((await gh.stop('SIGTERM')).code).toBe(0);
    await gh.cleanup();
    await redis.restart();
    gh = await startGatehouseProcess({ redisUrl: redis.url, port, env });
    driver = await startInteractionDriver({ issuer, redisUrl: redis.url });

    // Signing keys came from Redis, not a fresh generation: same kids, old tokens verify.
    const jwksAfter = (await (await fetch(`${gh.url}/jwks`)).json()) as JSONWebKeySet;
    expect(jwksAfter.keys.map((k) => k.kid).sort()).toEqual(jwksBefore.keys.map((k) => k.kid).sort());
    const verified = await jwtVerify(accessToken, createLocalJWKSet(jwksAfter), { issuer });
    // The same account, found again by its email in the restarted Redis.
    expect(verified.payload.sub).toBe(await accountFor(driver, 'persisted-user'));

    // The session survives: prompt=none with the same browser yields a code, not login_required.
    const silent = await signInSpa(driver, { jar, prompt: 'none', account: 'persisted-user' });
    expect(silent.callback.searchParams.get('error')).toBeNull();
    expect(silent.token?.status).toBe(200);

    // The refresh token issued before still rotates (and the grant behind it is intact).
    const rotated = await refreshSpa(`${gh.url}/token`, refreshToken);
    expect(rotated.status).toBe(200);
    expect(typeof rotated.body.refresh_token).toBe('string');

    // The registered client still authenticates.
    const cc = await postForm(
      `${gh.url}/token`,
      { grant_type: 'client_credentials', scope: 'recipes:read' },
      basic(client.client_id, client.client_secret),
    );
    expect(cc.status).toBe(200);

    // The account still signs in.
    const afterConn = new Redis(redis.url);
    const check = await createAccountStore({ kind: 'redis', conn: afterConn }).verifyPassword(
      'persisted@example.com',
      'correct horse battery staple',
    );
    afterConn.disconnect();
    expect(check.ok).toBe(true);
  }, 90_000);
});
