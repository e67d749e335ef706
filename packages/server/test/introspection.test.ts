import { basic, SERVICE_SECRET, WEB_SECRET } from '@gatehouse/testkit/clients';
import { postForm } from '@gatehouse/testkit/forms';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { signIn } from '@gatehouse/testkit/sign-in';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

let introspect: string;
const gh = suiteGatehouse({ redis: false });
beforeAll(async () => {
  introspect = `${gh.issuer}/introspect`;
});
afterEach(() => {
  vi.useRealTimers();
});

describe('introspection (RFC 7662) and revocation (RFC 7009) of JWT access tokens', () => {
  it('answers for a JWT access token: active with its claims, to its own client', async () => {
    const { tokens, accountId } = await signIn(gh.server, gh.issuer);
    const result = await postForm(introspect, { token: tokens.access_token, client_id: 'spa' });
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({
      active: true,
      client_id: 'spa',
      sub: accountId,
      token_type: 'Bearer',
    });
  });

  it('never tells one client about another client’s token', async () => {
    const { tokens } = await signIn(gh.server, gh.issuer);
    const jwt = await postForm(
      introspect,
      { token: tokens.access_token },
      basic('other-web', `${WEB_SECRET}-other`),
    );
    expect(jwt.body).toEqual({ active: false });
    const refresh = await postForm(
      introspect,
      { token: String(tokens.refresh_token) },
      basic('other-web', `${WEB_SECRET}-other`),
    );
    expect(refresh.body).toEqual({ active: false });
  });

  it('a forged or tampered JWT is inactive', async () => {
    const { tokens } = await signIn(gh.server, gh.issuer);
    const [h, p] = tokens.access_token.split('.');
    const tampered = `${h}.${p}.${Buffer.from('not a signature').toString('base64url')}`;
    expect((await postForm(introspect, { token: tampered, client_id: 'spa' })).body).toEqual({
      active: false,
    });
  });

  it('revoking the JWT revokes its grant: the token and the refresh token stop working', async () => {
    const { tokens } = await signIn(gh.server, gh.issuer);
    const revoked = await postForm(`${gh.issuer}/revoke`, { token: tokens.access_token, client_id: 'spa' });
    expect(revoked.status).toBe(200);
    expect((await postForm(introspect, { token: tokens.access_token, client_id: 'spa' })).body).toEqual({
      active: false,
    });
    const refresh = await postForm(`${gh.issuer}/token`, {
      grant_type: 'refresh_token',
      refresh_token: String(tokens.refresh_token),
      client_id: 'spa',
    });
    expect(refresh.body.error).toBe('invalid_grant');
  });

  // The server remembers a JWT whose signature it checked; what can change must still be asked each time.
  it('a JWT answered active before is inactive once its grant is revoked', async () => {
    const { tokens } = await signIn(gh.server, gh.issuer);
    const ask = () => postForm(introspect, { token: tokens.access_token, client_id: 'spa' });
    expect((await ask()).body).toMatchObject({ active: true });
    expect((await ask()).body).toMatchObject({ active: true });
    await postForm(`${gh.issuer}/revoke`, { token: String(tokens.refresh_token), client_id: 'spa' });
    expect((await ask()).body).toEqual({ active: false });
  });

  it('a JWT answered active before is inactive once it expires', async () => {
    const { tokens } = await signIn(gh.server, gh.issuer);
    const ask = () => postForm(introspect, { token: tokens.access_token, client_id: 'spa' });
    expect((await ask()).body).toMatchObject({ active: true });
    const { exp } = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString());
    vi.useFakeTimers({ toFake: ['Date'], now: exp * 1000 });
    expect((await ask()).body).toEqual({ active: false });
  });

  it('a client-credentials JWT is introspectable by its client, and says it cannot be revoked', async () => {
    const issued = await postForm(
      `${gh.issuer}/token`,
      { grant_type: 'client_credentials', scope: 'recipes:read' },
      basic('service', SERVICE_SECRET),
    );
    const token = String(issued.body.access_token);
    const result = await postForm(introspect, { token }, basic('service', SERVICE_SECRET));
    expect(result.body).toMatchObject({ active: true, client_id: 'service', scope: 'recipes:read' });
    const revoke = await postForm(`${gh.issuer}/revoke`, { token }, basic('service', SERVICE_SECRET));
    expect(revoke.body.error).toBe('unsupported_token_type');
  });
});
