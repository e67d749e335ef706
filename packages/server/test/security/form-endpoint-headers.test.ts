import { basic, SERVICE_SECRET } from '@gatehouse/testkit/clients';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { describe, expect, it } from 'vitest';

const gh = suiteGatehouse();

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** The strict headers every response carries, the pages' and the form endpoints' alike. */
function expectSecurityHeaders(response: Response): void {
  expect(response.headers.get('content-security-policy')).toBe(
    "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  expect(response.headers.get('x-frame-options')).toBe('DENY');
}

describe('security headers on the form endpoints (set once the answer is ready)', () => {
  it('a client-credentials token', async () => {
    const response = await fetch(`${gh.issuer}/token`, {
      method: 'POST',
      headers: { ...FORM, ...basic('service', SERVICE_SECRET) },
      body: 'grant_type=client_credentials&scope=recipes%3Aread',
    });
    expect(response.status).toBe(200);
    expectSecurityHeaders(response);
  });

  it("oidc-provider's error (invalid_client), the guard's (not a form, too large) and the token policies' (invalid_scope)", async () => {
    const answers = await Promise.all([
      fetch(`${gh.issuer}/token`, {
        method: 'POST',
        headers: { ...FORM, ...basic('service', 'not-the-secret') },
        body: 'grant_type=client_credentials',
      }),
      fetch(`${gh.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      }),
      fetch(`${gh.issuer}/introspect`, {
        method: 'POST',
        headers: FORM,
        body: `token=${'a'.repeat(60 * 1024)}`,
      }),
      fetch(`${gh.issuer}/token`, {
        method: 'POST',
        headers: { ...FORM, ...basic('service', SERVICE_SECRET) },
        body: 'grant_type=client_credentials&scope=nonsense',
      }),
    ]);
    expect(answers.map((r) => r.status)).toEqual([401, 400, 413, 400]);
    for (const response of answers) expectSecurityHeaders(response);
  });
});
