import { describe, expect, it } from 'vitest';
import { GatehouseError, InteractionRequiredError, OAuthError } from './errors.ts';
import { deviceAuthorization } from './node/client.ts';
import { grant, okBody } from './protocol.ts';

/** A token request whose endpoint answers `response`: an OAuth error unless 200, then the RFC 6749 §5.1 checks. */
const processTokenResponse = (response: Response, dpop = false) =>
  grant(
    {
      dpop,
      clientId: 'test',
      fetch: async () => response,
      timeoutMs: 1_000,
      metadata: async () => ({ issuer: 'https://as.example', token_endpoint: 'https://as.example/token' }),
    },
    { grant_type: 'refresh_token', refresh_token: 'rt' },
  );
const processDeviceAuthorizationResponse = async (response: Response) =>
  deviceAuthorization(await okBody(response));
const processRevocationResponse = async (response: Response) => {
  await okBody(response);
};

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('processTokenResponse', () => {
  it('accepts a complete Bearer response, token_type case-insensitively', async () => {
    const tokens = await processTokenResponse(
      json({ access_token: 'at', token_type: 'bearer', expires_in: 60, refresh_token: 'rt', scope: 'a b' }),
    );
    expect(tokens).toEqual({
      access_token: 'at',
      token_type: 'Bearer',
      expires_in: 60,
      refresh_token: 'rt',
      scope: 'a b',
    });
  });

  it('a DPoP client accepts token_type DPoP and refuses Bearer, which would be a downgrade', async () => {
    const dpop = { access_token: 'at', token_type: 'dpop', expires_in: 60 };
    expect(await processTokenResponse(json(dpop), true)).toMatchObject({ token_type: 'DPoP' });
    const bearer = json({ ...dpop, token_type: 'Bearer' });
    await expect(processTokenResponse(bearer, true)).rejects.toMatchObject({
      code: 'ERR_INVALID_RESPONSE',
      message: 'unsupported token_type Bearer',
    });
  });

  it.each([
    ['no access_token', { token_type: 'Bearer' }],
    ['an empty access_token', { access_token: '', token_type: 'Bearer' }],
    ['no token_type', { access_token: 'at' }],
    ['a DPoP token_type (the client did not ask for DPoP)', { access_token: 'at', token_type: 'DPoP' }],
    ['a negative expires_in', { access_token: 'at', token_type: 'Bearer', expires_in: -1 }],
    ['a string expires_in', { access_token: 'at', token_type: 'Bearer', expires_in: '60' }],
    ['a numeric scope', { access_token: 'at', token_type: 'Bearer', scope: 1 }],
  ])('rejects %s as ERR_INVALID_RESPONSE', async (_label, body) => {
    const error = await processTokenResponse(json(body)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatehouseError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_RESPONSE' });
  });

  it('maps OAuth error JSON to OAuthError with error, error_description and status', async () => {
    const error = await processTokenResponse(
      json({ error: 'invalid_grant', error_description: 'used' }, 400),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({
      code: 'ERR_OAUTH',
      error: 'invalid_grant',
      error_description: 'used',
      status: 400,
    });
  });

  it('maps interaction errors to InteractionRequiredError', async () => {
    const error = await processTokenResponse(json({ error: 'login_required' }, 400)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InteractionRequiredError);
    expect(error).toMatchObject({ code: 'ERR_INTERACTION_REQUIRED', error: 'login_required' });
  });

  it('maps a non-JSON error page to ERR_INVALID_RESPONSE', async () => {
    const error = await processTokenResponse(new Response('<h1>Bad gateway</h1>', { status: 502 })).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'ERR_INVALID_RESPONSE' });
  });
});

describe('processDeviceAuthorizationResponse', () => {
  it('defaults interval to 5 seconds (RFC 8628 §3.2)', async () => {
    const device = await processDeviceAuthorizationResponse(
      json({
        device_code: 'dc',
        user_code: 'ABCD-EFGH',
        verification_uri: 'https://id/device',
        expires_in: 600,
      }),
    );
    expect(device.interval).toBe(5);
  });

  it('requires expires_in', async () => {
    await expect(
      processDeviceAuthorizationResponse(
        json({ device_code: 'dc', user_code: 'u', verification_uri: 'https://id/device' }),
      ),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_RESPONSE' });
  });
});

describe('processRevocationResponse', () => {
  it('accepts 200 and maps errors', async () => {
    await expect(processRevocationResponse(new Response(null, { status: 200 }))).resolves.toBeUndefined();
    await expect(processRevocationResponse(json({ error: 'invalid_client' }, 401))).rejects.toMatchObject({
      error: 'invalid_client',
      status: 401,
    });
  });
});
