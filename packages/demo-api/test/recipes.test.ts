import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recipeSchema } from '../src/index.ts';
import { type RunningApi, startApi, startTestIssuer, type TestIssuer } from './fixtures.ts';

let issuer: TestIssuer;
let redis: RedisProcess;
const connections: Redis[] = [];

beforeAll(async () => {
  issuer = await startTestIssuer();
  redis = await startRedis();
});
afterAll(async () => {
  for (const conn of connections) conn.disconnect();
  await issuer.close();
  await redis.cleanup();
});

describe.each(['memory', 'redis'] as const)('recipes API on the %s store', (storeKind) => {
  let running: RunningApi;
  let alice: string;
  let bob: string;
  let readOnly: string;

  beforeAll(async () => {
    let options = {};
    if (storeKind === 'redis') {
      const conn = new Redis(redis.url);
      connections.push(conn);
      options = { redis: conn };
    }
    running = await startApi(issuer, options);
    alice = await issuer.mint(running.url);
    bob = await issuer.mint(running.url, { sub: 'bob', gid: 'grant-bob' });
    readOnly = await issuer.mint(running.url, { scope: 'recipes:read' });
  });
  afterAll(() => running.close());

  async function call(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; raw?: string } = {},
  ) {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.body !== undefined || options.raw !== undefined) {
      headers['content-type'] = 'application/json';
      body = options.raw ?? JSON.stringify(options.body);
    }
    const response = await fetch(`${running.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  }

  async function createRecipe(token: string, name: string, extra: object = {}) {
    const created = await call('POST', '/recipes', { token, body: { name, ...extra } });
    expect(created.status).toBe(201);
    return created.body as { id: string };
  }

  it('creates a draft that only its owner sees, then publishes it for everyone', async () => {
    const created = await call('POST', '/recipes', {
      token: alice,
      body: {
        name: 'Pancakes',
        description: 'Fluffy',
        num_of_servings: 4,
        cook_time: 20,
        ingredients: ['flour', 'milk'],
      },
    });
    expect(created.status).toBe(201);
    const recipe = recipeSchema.parse(created.body);
    expect(recipe).toMatchObject({ name: 'Pancakes', user_id: 'alice', is_publish: false, directions: '' });
    expect(created.headers.get('location')).toBe(`${running.url}/recipes/${recipe.id}`);

    expect((await call('GET', `/recipes/${recipe.id}`, { token: alice })).status).toBe(200);
    expect((await call('GET', `/recipes/${recipe.id}`, { token: bob })).status).toBe(404);
    expect((await call('GET', `/recipes/${recipe.id}`)).status).toBe(404);
    expect((await call('GET', '/recipes?q=pancakes')).body.total).toBe(0);

    expect((await call('PUT', `/recipes/${recipe.id}/publish`, { token: alice })).status).toBe(204);
    expect((await call('GET', `/recipes/${recipe.id}`)).body).toMatchObject({
      id: recipe.id,
      is_publish: true,
    });
    expect((await call('GET', '/recipes?q=PANCAKES')).body.data.map((r: { id: string }) => r.id)).toEqual([
      recipe.id,
    ]);

    expect((await call('DELETE', `/recipes/${recipe.id}/publish`, { token: alice })).status).toBe(204);
    expect((await call('GET', '/recipes?q=pancakes')).body.total).toBe(0);
  });

  it('lets only the owner update, publish and delete (404 for unknown, 403 on a published recipe of someone else)', async () => {
    const { id } = await createRecipe(alice, 'Soup');
    expect((await call('PUT', `/recipes/${id}/publish`, { token: alice })).status).toBe(204);
    expect(await call('PATCH', `/recipes/${id}`, { token: bob, body: { name: 'Mine' } })).toMatchObject({
      status: 403,
      body: { error: 'forbidden' },
    });
    expect((await call('DELETE', `/recipes/${id}/publish`, { token: bob })).status).toBe(403);
    expect((await call('DELETE', `/recipes/${id}`, { token: bob })).status).toBe(403);
    const patched = await call('PATCH', `/recipes/${id}`, { token: alice, body: { cook_time: 45 } });
    expect(patched.status).toBe(200);
    expect(recipeSchema.parse(patched.body)).toMatchObject({ name: 'Soup', cook_time: 45 });
    expect((await call('DELETE', `/recipes/${id}`, { token: alice })).status).toBe(204);
    expect(await call('PATCH', `/recipes/${id}`, { token: alice, body: { name: 'x' } })).toMatchObject({
      status: 404,
      body: { error: 'not_found' },
    });
    expect((await call('DELETE', `/recipes/${id}`, { token: alice })).status).toBe(404);
    expect((await call('GET', '/recipes/no-such-id')).status).toBe(404);
  });

  it('answers every write on a draft of someone else exactly like an unknown id, so drafts do not leak', async () => {
    const { id } = await createRecipe(alice, 'Secret stew');
    const probes = [
      ['GET', `/recipes/${id}`, undefined],
      ['PATCH', `/recipes/${id}`, { name: 'Mine' }],
      ['DELETE', `/recipes/${id}`, undefined],
      ['PUT', `/recipes/${id}/publish`, undefined],
      ['DELETE', `/recipes/${id}/publish`, undefined],
    ] as const;
    const [onDraft, onUnknown] = await Promise.all([
      Promise.all(probes.map(([method, path, body]) => call(method, path, { token: bob, body }))),
      Promise.all(
        probes.map(([method, path, body]) =>
          call(method, path.replace(id, 'no-such-id'), { token: bob, body }),
        ),
      ),
    ]);
    for (const [i, answer] of onDraft.entries()) {
      expect(answer.status, `${probes[i]?.[0]} ${probes[i]?.[1]}`).toBe(404);
      expect(answer.body).toEqual(onUnknown[i]?.body);
    }
    // Nothing changed: the draft is still alice's, unpublished and under its name.
    expect((await call('GET', `/recipes/${id}`, { token: alice })).body).toMatchObject({
      name: 'Secret stew',
      user_id: 'alice',
      is_publish: false,
    });
  });

  it('validates input: 422 naming the field, 400 for malformed JSON or no body, 413 over 64 KiB, 415 not JSON', async () => {
    expect(await call('POST', '/recipes', { token: alice, body: { name: '' } })).toMatchObject({
      status: 422,
      body: { error: 'validation_failed', error_description: expect.stringMatching(/^name: /) },
    });
    expect(
      await call('POST', '/recipes', { token: alice, body: { name: 'x', cook_time: 'long' } }),
    ).toMatchObject({
      status: 422,
      body: { error_description: expect.stringMatching(/^cook_time: /) },
    });
    expect(await call('POST', '/recipes', { token: alice, body: { name: 'x', owner: 'bob' } })).toMatchObject(
      {
        status: 422,
        body: { error_description: 'unknown field: owner' },
      },
    );
    const { id } = await createRecipe(alice, 'Bread');
    expect(await call('PATCH', `/recipes/${id}`, { token: alice, body: {} })).toMatchObject({ status: 422 });
    expect(await call('POST', '/recipes', { token: alice, raw: '{"name":' })).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', error_description: 'request body is not valid JSON' },
    });
    expect((await call('POST', '/recipes', { token: alice })).status).toBe(400);
    const big = await call('POST', '/recipes', {
      token: alice,
      body: { name: 'x', directions: 'y'.repeat(65 * 1024) },
    });
    expect(big).toMatchObject({ status: 413, body: { error: 'payload_too_large' } });
    const text = await fetch(`${running.url}/recipes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'text/plain' },
      body: 'name=x',
    });
    expect(text.status).toBe(415);
  });

  it('requires a token (401) and recipes:write (403 insufficient_scope) to create', async () => {
    const anonymous = await call('POST', '/recipes', { body: { name: 'x' } });
    expect(anonymous.status).toBe(401);
    // Both schemes are offered, neither with an error (RFC 6750 §3.1, RFC 9449 §7.1).
    expect(anonymous.headers.get('www-authenticate')).toBe(
      `Bearer realm="${running.url}", DPoP realm="${running.url}", algs="ES256 EdDSA"`,
    );
    const scoped = await call('POST', '/recipes', { token: readOnly, body: { name: 'x' } });
    expect(scoped.status).toBe(403);
    expect(scoped.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(scoped.headers.get('www-authenticate')).toContain('scope="recipes:write"');
    const garbage = await call('GET', '/me', { token: 'garbage' });
    expect(garbage.status).toBe(401);
    expect(garbage.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('answers /me with the token subject and /me/recipes with drafts included', async () => {
    expect(await call('GET', '/me', { token: alice })).toMatchObject({
      status: 200,
      body: { sub: 'alice', client_id: 'spa', scope: 'openid recipes:read recipes:write' },
    });
    expect((await call('GET', '/me')).status).toBe(401);
    const { id } = await createRecipe(bob, 'Bob draft');
    const mine = await call('GET', '/me/recipes', { token: bob });
    expect(mine.status).toBe(200);
    expect(mine.body.data.map((r: { id: string }) => r.id)).toContain(id);
    expect(mine.body.data.every((r: { user_id: string }) => r.user_id === 'bob')).toBe(true);
    const noRead = await issuer.mint(running.url, { scope: 'recipes:write' });
    expect((await call('GET', '/me/recipes', { token: noRead })).status).toBe(403);
  });

  it('paginates published recipes newest first with total count and Link header', async () => {
    const carol = await issuer.mint(running.url, { sub: 'carol' });
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const { id } = await createRecipe(carol, `Paged dish ${i}`, { description: 'pagination' });
      await call('PUT', `/recipes/${id}/publish`, { token: carol });
      ids.push(id);
    }
    const page2 = await call('GET', '/recipes?q=pagination&per_page=10&page=2');
    expect(page2.status).toBe(200);
    expect(page2.body).toMatchObject({ page: 2, per_page: 10, total: 25 });
    expect(page2.body.data.map((r: { id: string }) => r.id)).toEqual(ids.reverse().slice(10, 20));
    expect(page2.headers.get('x-total-count')).toBe('25');
    const link = page2.headers.get('link') ?? '';
    const base = `${running.url}/recipes?q=pagination&per_page=10`;
    expect(link).toBe(
      `<${base}&page=1>; rel="first", <${base}&page=1>; rel="prev", <${base}&page=3>; rel="next", <${base}&page=3>; rel="last"`,
    );
    const mine = await call('GET', '/me/recipes?per_page=5', { token: carol });
    expect(mine.body).toMatchObject({ total: 25, per_page: 5 });
    expect(mine.body.data).toHaveLength(5);
  });

  it('refuses bad pagination parameters with 400 naming the parameter', async () => {
    expect(await call('GET', '/recipes?per_page=101')).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', error_description: expect.stringMatching(/^per_page: /) },
    });
    expect((await call('GET', '/recipes?page=0')).body.error_description).toMatch(/^page: /);
    expect((await call('GET', '/recipes?page=abc')).status).toBe(400);
  });

  it('answers unknown routes with a JSON 404', async () => {
    expect(await call('GET', '/nope')).toMatchObject({ status: 404, body: { error: 'not_found' } });
  });
});
