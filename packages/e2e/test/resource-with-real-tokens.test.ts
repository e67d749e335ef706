import { createHmac, createPublicKey } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDemoApi, type DemoApi } from '@gatehouse/demo-api';
import { createAccessTokenVerifier } from '@gatehouse/resource';
import { RedisKeyRepository, rotateSigningKey } from '@gatehouse/server/internal/keys';
import { basic, SERVICE_SECRET } from '@gatehouse/testkit/clients';
import { postForm } from '@gatehouse/testkit/forms';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { signIn } from '@gatehouse/testkit/sign-in';
import { Redis } from 'ioredis';
import { decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const AUDIENCE = 'http://localhost:4001';
const OTHER_API = 'https://billing.example.com';
const SECRET = 'test-secret-test-secret-test-secret-0123';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

// Every way a bearer token can be wrong (absent, forged, confused algorithm, another token type or
// audience, oversized, expired) and the JWKS being down, checked by the demo API against tokens
// issued by the real server on a real Redis rather than hand-made ones.
describe('the demo API with tokens from the real server', () => {
  const gh = suiteGatehouse({
    resources: [
      { uri: AUDIENCE, scopes: ['recipes:read', 'recipes:write'] },
      { uri: OTHER_API, scopes: ['billing:read'] },
    ],
    env: { JWKS_MAX_AGE: '1' },
    gatehouse: { keyPollSeconds: 0.2 },
  });
  let api: DemoApi;
  let apiServer: Server;
  let apiConnection: Redis;
  let apiBase: string;
  let tokens: { access_token: string; refresh_token?: string; id_token?: string };

  beforeAll(async () => {
    apiConnection = new Redis(gh.redis.url);
    // A short refetch cooldown so the test sees the rotated key without waiting 30 s.
    api = createDemoApi({
      issuer: gh.issuer,
      apiUrl: AUDIENCE,
      redis: apiConnection,
      verifier: { jwksCooldown: 100 },
    });
    apiServer = api.listen(0, '127.0.0.1');
    await once(apiServer, 'listening');
    apiBase = `http://127.0.0.1:${(apiServer.address() as AddressInfo).port}`;
    ({ tokens } = await signIn(gh.server, gh.issuer, 'table-user'));
  });
  afterAll(async () => {
    api?.close();
    apiServer?.close();
    apiConnection?.disconnect();
  });

  const me = (authorization?: string) =>
    fetch(`${apiBase}/me`, { headers: authorization ? { authorization } : {} });
  const expectInvalidToken = async (token: string) => {
    const response = await me(`Bearer ${token}`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
  };

  it('accepts the real access token', async () => {
    expect((await me(`Bearer ${tokens.access_token}`)).status).toBe(200);
  });

  it('every endpoint’s success path with a real token', async () => {
    const writer = await signIn(
      gh.server,
      gh.issuer,
      'table-user',
      'openid offline_access recipes:read recipes:write',
    );
    const auth = {
      authorization: `Bearer ${writer.tokens.access_token}`,
      'content-type': 'application/json',
    };
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${apiBase}${path}`, { method, headers: auth, ...(body ? { body: JSON.stringify(body) } : {}) });
    const created = await call('POST', '/recipes', {
      name: 'Real-token soup',
      description: 'Made end to end',
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect((await call('PATCH', `/recipes/${id}`, { description: 'Edited' })).status).toBe(200);
    expect((await call('PUT', `/recipes/${id}/publish`)).status).toBeLessThan(300);
    const list = await fetch(`${apiBase}/recipes?q=soup&per_page=5`);
    expect(list.status).toBe(200);
    expect(JSON.stringify(await list.json())).toContain('Real-token soup');
    expect((await fetch(`${apiBase}/recipes/${id}`)).status).toBe(200);
    const mine = await call('GET', '/me/recipes');
    expect(mine.status).toBe(200);
    expect(JSON.stringify(await mine.json())).toContain(id);
    expect((await call('DELETE', `/recipes/${id}/publish`)).status).toBeLessThan(300);
    expect((await call('DELETE', `/recipes/${id}`)).status).toBeLessThan(300);
    expect((await fetch(`${apiBase}/recipes/${id}`)).status).toBe(404);
  });

  it('no credentials: 401 with bare challenges (Bearer and DPoP, no error)', async () => {
    const response = await me();
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="[^"]+", DPoP realm="[^"]+", algs="ES256 EdDSA"$/,
    );
  });

  it('garbage, alg none, tampered payload, a foreign key with the known kid', async () => {
    await expectInvalidToken('not.a.jwt');
    const [header, payload] = tokens.access_token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const kid = String(decodeProtectedHeader(tokens.access_token).kid);
    await expectInvalidToken(`${b64({ alg: 'none', typ: 'at+jwt', kid })}.${payload}.`);
    await expectInvalidToken(
      `${header}.${b64({ ...claims, sub: 'someone-else' })}.${tokens.access_token.split('.')[2]}`,
    );
    const foreign = await generateKeyPair('ES256');
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
      .sign(foreign.privateKey);
    await expectInvalidToken(forged);
  });

  it('HS256 signed with the published public key (algorithm confusion)', async () => {
    const { keys } = (await (await fetch(`${gh.issuer}/jwks`)).json()) as { keys: Record<string, string>[] };
    const jwk = keys[0] as Record<string, string>;
    const [, payload] = tokens.access_token.split('.') as [string, string];
    const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    for (const secret of [pem, JSON.stringify(jwk)]) {
      const head = b64({ alg: 'HS256', typ: 'at+jwt', kid: jwk.kid });
      const signature = createHmac('sha256', secret).update(`${head}.${payload}`).digest('base64url');
      await expectInvalidToken(`${head}.${payload}.${signature}`);
    }
  });

  it('an ID token, a refresh token, a token for another API', async () => {
    await expectInvalidToken(String(tokens.id_token));
    await expectInvalidToken(String(tokens.refresh_token));
    const other = await postForm(
      `${gh.issuer}/token`,
      { grant_type: 'client_credentials', scope: 'recipes:read', resource: OTHER_API },
      basic('service', SERVICE_SECRET),
    );
    // A token whose audience is another API is refused here, whatever scopes it carries.
    expect(other.status).toBe(200);
    await expectInvalidToken(String(other.body.access_token));
  });

  it('a 1 MB token is refused before it is parsed', async () => {
    const response = await me(`Bearer ${'a'.repeat(1024 * 1024)}`);
    expect([400, 401, 431]).toContain(response.status);
  });

  it('expired: the real token checked with a clock past its exp', async () => {
    const [, payload] = tokens.access_token.split('.') as [string, string];
    const exp = Number(JSON.parse(Buffer.from(payload, 'base64url').toString()).exp);
    const verifier = createAccessTokenVerifier({
      issuer: gh.issuer,
      audience: AUDIENCE,
      now: () => new Date((exp + 3600) * 1000),
    });
    await expect(verifier.verify(tokens.access_token)).rejects.toMatchObject({ code: 'invalid_token' });
    verifier.close();
  });

  it('key rotation at the server: a token signed by the new key is accepted', async () => {
    const connection = gh.server.store.connection;
    if (!connection) throw new Error('expected Redis');
    const { added } = await rotateSigningKey(new RedisKeyRepository(connection), SECRET, {
      jwksMaxAge: 1,
      accessTokenTTL: 900,
    });
    let fresh = tokens.access_token;
    for (let i = 0; i < 100 && decodeProtectedHeader(fresh).kid !== added.kid; i++) {
      await new Promise((r) => setTimeout(r, 50));
      fresh = (await signIn(gh.server, gh.issuer, 'table-user')).tokens.access_token;
    }
    expect(decodeProtectedHeader(fresh).kid).toBe(added.kid);
    expect((await me(`Bearer ${fresh}`)).status).toBe(200);
    // And the token signed before the rotation still works.
    expect((await me(`Bearer ${tokens.access_token}`)).status).toBe(200);
  });

  it('JWKS unreachable with a cold cache: 503 with Retry-After, never 401 or 200', async () => {
    const verifier = createAccessTokenVerifier({ issuer: 'http://127.0.0.1:9', audience: AUDIENCE });
    await expect(verifier.verify(tokens.access_token)).rejects.toMatchObject({ status: 503 });
    verifier.close();
  });
});
