import { basic, SERVICE_SECRET } from '@gatehouse/testkit/clients';
import { postForm } from '@gatehouse/testkit/forms';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { beforeAll, describe, expect, it } from 'vitest';

let token: string;
const gh = suiteGatehouse({ redis: false });
beforeAll(async () => {
  token = `${gh.issuer}/token`;
});

function expectOAuthError(
  result: { status: number; body: Record<string, unknown> },
  status: number,
  error: string,
) {
  expect(result.status).toBe(status);
  expect(result.body.error).toBe(error);
  expect(typeof result.body.error_description).toBe('string');
}

describe('RFC 6749 §5.2 errors at the token endpoint', () => {
  it('a grant type the client is not registered for is unauthorized_client', async () => {
    const result = await postForm(
      token,
      { grant_type: 'client_credentials' },
      basic('web', 'web-secret-0123456789abcdef0123456789abcd'),
    );
    expectOAuthError(result, 400, 'unauthorized_client');
  });

  it('unauthorized_client names a known grant type and never echoes an unknown one', async () => {
    const web = basic('web', 'web-secret-0123456789abcdef0123456789abcd');
    const known = await postForm(token, { grant_type: 'client_credentials' }, web);
    expect(known.body.error_description).toBe(
      'the client is not registered for the client_credentials grant',
    );
    for (const grantType of ['"', 'x\u{10FFFF}y', 'urn:evil:<script>']) {
      const result = await postForm(token, { grant_type: grantType }, web);
      expect(result.status).toBe(400);
      // RFC 6749 §5.2: error_description is NQSCHAR (%x20-21 / %x23-5B / %x5D-7E).
      expect(String(result.body.error_description)).toMatch(/^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/);
      expect(String(result.body.error_description)).not.toContain(grantType);
    }
  });

  it('bad client credentials are 401 invalid_client with WWW-Authenticate', async () => {
    const result = await postForm(
      token,
      { grant_type: 'client_credentials' },
      basic('service', 'wrong-secret'),
    );
    expectOAuthError(result, 401, 'invalid_client');
    expect(result.headers.get('www-authenticate')).toMatch(/^Basic/);
  });

  it('an unknown client is 401 invalid_client', async () => {
    const result = await postForm(token, { grant_type: 'client_credentials' }, basic('nobody', 'x'));
    expectOAuthError(result, 401, 'invalid_client');
  });

  it('an unknown scope is invalid_scope', async () => {
    const result = await postForm(
      token,
      { grant_type: 'client_credentials', scope: 'recipes:read admin:everything' },
      basic('service', SERVICE_SECRET),
    );
    expectOAuthError(result, 400, 'invalid_scope');
  });

  it('a missing grant_type is invalid_request, an unknown one unsupported_grant_type', async () => {
    expectOAuthError(await postForm(token, { client_id: 'spa' }), 400, 'invalid_request');
    expectOAuthError(
      await postForm(token, { grant_type: 'password', client_id: 'spa', username: 'a', password: 'b' }),
      400,
      'unsupported_grant_type',
    );
    expectOAuthError(
      await postForm(token, { grant_type: 'implicit', client_id: 'spa' }),
      400,
      'unsupported_grant_type',
    );
  });

  it('duplicated parameters are invalid_request', async () => {
    const result = await postForm(
      token,
      'grant_type=refresh_token&grant_type=refresh_token&refresh_token=a&client_id=spa',
    );
    expectOAuthError(result, 400, 'invalid_request');
    const twoTokens = await postForm(
      token,
      'grant_type=refresh_token&refresh_token=a&refresh_token=b&client_id=spa',
    );
    expectOAuthError(twoTokens, 400, 'invalid_request');
  });

  it('an unknown refresh token is invalid_grant', async () => {
    expectOAuthError(
      await postForm(token, { grant_type: 'refresh_token', refresh_token: 'nope', client_id: 'spa' }),
      400,
      'invalid_grant',
    );
  });
});

describe('malformed requests get a JSON error, never a 5xx', () => {
  const post = async (body: BodyInit, contentType: string) => {
    const response = await fetch(token, { method: 'POST', headers: { 'content-type': contentType }, body });
    const text = await response.text();
    return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
  };

  it('a JSON body', async () => {
    expectOAuthError(
      await post(JSON.stringify({ grant_type: 'client_credentials' }), 'application/json'),
      400,
      'invalid_request',
    );
  });

  it('a 2 MB body', async () => {
    const result = await post(
      `grant_type=client_credentials&x=${'a'.repeat(2 * 1024 * 1024)}`,
      'application/x-www-form-urlencoded',
    );
    expect(result.status).toBe(413);
    expect(result.body.error).toBe('invalid_request');
  });

  it('garbage bytes', async () => {
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
    const result = await post(garbage, 'application/x-www-form-urlencoded');
    expect(result.status).toBeGreaterThanOrEqual(400);
    expect(result.status).toBeLessThan(500);
    expect(typeof result.body.error).toBe('string');
  });

  it('invalid percent-encoding and odd characters', async () => {
    const result = await post(
      'grant_type=%E0%A4%A&client_id=%FF%FE&%%%=',
      'application/x-www-form-urlencoded',
    );
    expect(result.status).toBeGreaterThanOrEqual(400);
    expect(result.status).toBeLessThan(500);
  });

  it('no body at all, and other endpoints too', async () => {
    for (const path of ['/token', '/revoke', '/introspect', '/device/auth']) {
      const response = await fetch(`${gh.issuer}${path}`, { method: 'POST' });
      expect(response.status, path).toBeGreaterThanOrEqual(400);
      expect(response.status, path).toBeLessThan(500);
      expect(typeof ((await response.json()) as { error?: unknown }).error, path).toBe('string');
    }
  });

  it('the server is healthy afterwards', async () => {
    expect((await fetch(`${gh.issuer}/healthz`)).status).toBe(200);
    expect((await fetch(`${gh.issuer}/readyz`)).status).toBe(200);
  });
});
