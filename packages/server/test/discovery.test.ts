import { suiteGatehouse } from '@gatehouse/testkit/server';
import { describe, expect, it } from 'vitest';

const gh = suiteGatehouse({ redis: false });

describe('discovery, JWKS and health', () => {
  it('serves the JWKS with Cache-Control max-age, alg on every key and no private material', async () => {
    const response = await fetch(`${gh.issuer}/jwks`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    const { keys } = (await response.json()) as { keys: Record<string, unknown>[] };
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      // The main key (access tokens) and the RS256 key (ID tokens on the OIDC default).
      expect(key.alg).toMatch(/^(ES256|EdDSA|RS256)$/);
      expect(key.kid).toBeTypeOf('string');
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key[secret]).toBeUndefined();
    }
  });

  it('publishes the endpoints of ARCHITECTURE.md', async () => {
    const metadata = (await (await fetch(`${gh.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      string
    >;
    expect(metadata).toMatchObject({
      issuer: gh.issuer,
      authorization_endpoint: `${gh.issuer}/authorize`,
      token_endpoint: `${gh.issuer}/token`,
      revocation_endpoint: `${gh.issuer}/revoke`,
      introspection_endpoint: `${gh.issuer}/introspect`,
      device_authorization_endpoint: `${gh.issuer}/device/auth`,
      jwks_uri: `${gh.issuer}/jwks`,
    });
    expect(metadata.registration_endpoint).toBeUndefined();
  });

  it('/healthz and /readyz', async () => {
    expect(await (await fetch(`${gh.issuer}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${gh.issuer}/readyz`)).status).toBe(200);
  });
});
