import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { REDIRECT_URI } from '@gatehouse/testkit/clients';
import { postForm } from '@gatehouse/testkit/forms';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { authorizationCode, signIn } from '@gatehouse/testkit/sign-in';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const backends = ['memory', 'redis'] as const;

describe.each(backends)('refresh tokens and codes on the %s store', (backend) => {
  let redis: RedisProcess | undefined;
  let gh: StartedGatehouse;
  let token: string;
  beforeAll(async () => {
    if (backend === 'redis') redis = await startRedis();
    gh = await startGatehouse(redis ? { redis } : {});
    token = `${gh.issuer}/token`;
  });
  afterAll(async () => {
    await gh?.stop();
    await redis?.cleanup();
  });

  const refresh = (refreshToken: string) =>
    postForm(token, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'spa' });

  it('rotates the refresh token on every use; the new one works, the old one is spent', async () => {
    const { refreshToken } = await signIn(gh.server, gh.issuer);
    const first = await refresh(refreshToken);
    expect(first.status).toBe(200);
    const next = String(first.body.refresh_token);
    expect(next).not.toBe(refreshToken);
    const second = await refresh(next);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(next);
  });

  it('a refresh naming an API the grant does not cover gets invalid_target and spends nothing (RFC 8707 §2.2)', async () => {
    const { refreshToken } = await signIn(gh.server, gh.issuer);
    for (const resource of ['https://billing.example.com', 'http://localhost:4001/other']) {
      const refused = await postForm(token, {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: 'spa',
        resource,
      });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('invalid_target');
    }
    // The presented token was not rotated: it still refreshes, and its family is alive.
    const after = await refresh(refreshToken);
    expect(after.status).toBe(200);
    expect((await refresh(String(after.body.refresh_token))).status).toBe(200);
  });

  it('introspection (RFC 7662) of an opaque refresh token: active while it is current, inactive once rotated or revoked, whatever runs beside it', async () => {
    const introspect = (refreshToken: string) =>
      postForm(`${gh.issuer}/introspect`, { token: refreshToken, client_id: 'spa' });
    const { refreshToken } = await signIn(gh.server, gh.issuer);
    // Many at once, with other tokens' introspections in between: each request is answered from its own reads.
    const other = (await signIn(gh.server, gh.issuer)).refreshToken;
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => introspect(i % 2 ? other : refreshToken)),
    );
    for (const [i, answer] of answers.entries()) {
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ active: true, client_id: 'spa', scope: expect.any(String) });
      expect(answer.body.sub).toEqual(expect.any(String));
      expect(answer.body.token_type).toBeUndefined();
      if (i > 1) expect(answer.body.sub).toBe(answers[i % 2]?.body.sub);
    }
    const rotated = await refresh(refreshToken);
    expect(rotated.status).toBe(200);
    expect((await introspect(refreshToken)).body).toEqual({ active: false });
    const current = String(rotated.body.refresh_token);
    expect((await introspect(current)).body).toMatchObject({ active: true });
    // RFC 7009: revoking the refresh token revokes its grant; the token is inactive from the next request on.
    expect((await postForm(`${gh.issuer}/revoke`, { token: current, client_id: 'spa' })).status).toBe(200);
    expect((await introspect(current)).body).toEqual({ active: false });
    expect((await introspect(other)).body).toMatchObject({ active: true });
    expect((await introspect('not-a-token')).body).toEqual({ active: false });
  });

  it('a replayed refresh token gets invalid_grant and revokes the whole family', async () => {
    const { refreshToken } = await signIn(gh.server, gh.issuer);
    const rotated = await refresh(refreshToken);
    const current = String(rotated.body.refresh_token);
    const replay = await refresh(refreshToken);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    // RFC 9700 §4.14.2: the legitimate-looking current token dies with the family.
    const afterReplay = await refresh(current);
    expect(afterReplay.body.error).toBe('invalid_grant');
  });

  it('12 parallel redemptions of one refresh token: exactly one 200, 11 invalid_grant, no forked family', async () => {
    const { refreshToken } = await signIn(gh.server, gh.issuer);
    const results = await Promise.all(Array.from({ length: 12 }, () => refresh(refreshToken)));
    const ok = results.filter((r) => r.status === 200);
    const rejected = results.filter((r) => r.status === 400 && r.body.error === 'invalid_grant');
    expect(ok).toHaveLength(1);
    expect(rejected).toHaveLength(11);
    // The concurrent losers presented a spent token: the family is revoked, so the single
    // successor cannot start a second line either.
    const successor = String(ok[0]?.body.refresh_token);
    expect((await refresh(successor)).body.error).toBe('invalid_grant');
  });

  it('12 parallel redemptions of one code: exactly one 200, 11 invalid_grant, and the issued tokens die', async () => {
    const { code, verifier } = await authorizationCode(gh.server, gh.issuer);
    const form = {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT_URI,
      client_id: 'spa',
    };
    const results = await Promise.all(Array.from({ length: 12 }, () => postForm(token, form)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.body.error === 'invalid_grant')).toHaveLength(11);
    const winner = results.find((r) => r.status === 200);
    expect((await refresh(String(winner?.body.refresh_token))).body.error).toBe('invalid_grant');
  });

  it('a replayed code gets invalid_grant and revokes what its first redemption issued (RFC 6749 §4.1.2)', async () => {
    const { code, verifier } = await authorizationCode(gh.server, gh.issuer);
    const form = {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT_URI,
      client_id: 'spa',
    };
    const first = await postForm(token, form);
    expect(first.status).toBe(200);
    const replay = await postForm(token, form);
    expect(replay.body.error).toBe('invalid_grant');
    expect((await refresh(String(first.body.refresh_token))).body.error).toBe('invalid_grant');
    // And the revoked grant's JWT access token is no longer active at introspection.
    const introspection = await postForm(`${gh.issuer}/introspect`, {
      token: String(first.body.access_token),
      client_id: 'spa',
    });
    expect(introspection.body.active).toBe(false);
  });

  it('revoking a refresh token (RFC 7009) ends the grant', async () => {
    const { refreshToken } = await signIn(gh.server, gh.issuer);
    const revoked = await postForm(`${gh.issuer}/revoke`, { token: refreshToken, client_id: 'spa' });
    expect(revoked.status).toBe(200);
    expect((await refresh(refreshToken)).body.error).toBe('invalid_grant');
  });
});

describe('REFRESH_TOKEN_REUSE_INTERVAL', () => {
  let redis: RedisProcess;
  let gh: StartedGatehouse;
  beforeAll(async () => {
    redis = await startRedis();
    gh = await startGatehouse({ redis, env: { REFRESH_TOKEN_REUSE_INTERVAL: '30' } });
  });
  afterAll(async () => {
    await gh?.stop();
    await redis?.cleanup();
  });
  const refresh = (refreshToken: string) =>
    postForm(`${gh.issuer}/token`, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: 'spa',
    });

  it('inside the window a retried refresh returns the same successor instead of revoking', async () => {
    const { refreshToken } = await signIn(gh.server, gh.issuer);
    const first = await refresh(refreshToken);
    const retry = await refresh(refreshToken);
    expect(retry.status).toBe(200);
    expect(retry.body.refresh_token).toBe(first.body.refresh_token);
    // The family is intact: the successor rotates normally.
    const next = await refresh(String(first.body.refresh_token));
    expect(next.status).toBe(200);
  });

  it('12 parallel redemptions inside the window all get the one successor', async () => {
    const { refreshToken } = await signIn(gh.server, gh.issuer);
    const results = await Promise.all(Array.from({ length: 12 }, () => refresh(refreshToken)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(new Set(results.map((r) => r.body.refresh_token)).size).toBe(1);
  });

  it('reuse of a token whose successor was already rotated revokes the family', async () => {
    const { refreshToken } = await signIn(gh.server, gh.issuer);
    const first = await refresh(refreshToken);
    const second = await refresh(String(first.body.refresh_token));
    expect(second.status).toBe(200);
    const replay = await refresh(refreshToken);
    expect(replay.body.error).toBe('invalid_grant');
    expect((await refresh(String(second.body.refresh_token))).body.error).toBe('invalid_grant');
  });
});
