import { REDIRECT_URI, TEST_CLIENTS } from '@gatehouse/testkit/clients';
import { dpopKey, dpopProof } from '@gatehouse/testkit/dpop';
import { postForm } from '@gatehouse/testkit/forms';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoClients } from '../../src/dev/demo-clients.ts';
import { claimsOf, codeFor, codeForm, refreshForm, tokenRequest } from './dpop-support.ts';

// The seeded demo page client, exactly as `pnpm start` registers it (its redirect URIs moved to the test
// clients' origin): registered with dpop_bound_access_tokens (RFC 9449 §5.2), so no token request of
// `demo-spa` succeeds without a proof, and its refresh token works only with the key it was issued to.
describe('the seeded demo-spa client is DPoP-bound', () => {
  let gh: StartedGatehouse;
  beforeAll(async () => {
    const demo = demoClients(new URL(REDIRECT_URI).origin).clients;
    gh = await startGatehouse({ gatehouse: { clients: [...TEST_CLIENTS, ...demo] } });
  });
  afterAll(() => gh?.stop());

  it('registers demo-spa with dpop_bound_access_tokens: true', () => {
    const spa = demoClients().clients.find((client) => client.client_id === 'demo-spa');
    expect(spa?.dpop_bound_access_tokens).toBe(true);
  });

  it('refuses the code exchange without a proof (invalid_grant); the code then works with one', async () => {
    const { code, verifier } = await codeFor(gh, { clientId: 'demo-spa' });
    const form = codeForm(code, verifier, 'demo-spa');
    const refused = await tokenRequest(gh.issuer, form);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    expect(refused.body.access_token).toBeUndefined();

    const key = await dpopKey();
    const issued = await tokenRequest(gh.issuer, form, key);
    expect(issued.status).toBe(200);
    expect(issued.body.token_type).toBe('DPoP');
    expect(claimsOf(issued.body.access_token).cnf).toEqual({ jkt: key.thumbprint });
    // Registered ES256 ID tokens, which the demo page's SDK checks: not the RS256 default's RSA signature.
    expect(decodeProtectedHeader(String(issued.body.id_token)).alg).toBe('ES256');
  });

  it('refuses a refresh without a proof, with a proof of another key or a proof for another URL; the rightful key still refreshes', async () => {
    const key = await dpopKey();
    const { code, verifier } = await codeFor(gh, { clientId: 'demo-spa' });
    const issued = await tokenRequest(gh.issuer, codeForm(code, verifier, 'demo-spa'), key);
    expect(issued.status).toBe(200);
    const form = refreshForm(String(issued.body.refresh_token), 'demo-spa');

    const withoutProof = await tokenRequest(gh.issuer, form);
    expect(withoutProof.status).toBe(400);
    expect(withoutProof.body.error).toBe('invalid_grant');

    const withAnotherKey = await tokenRequest(gh.issuer, form, await dpopKey());
    expect(withAnotherKey.status).toBe(400);
    expect(withAnotherKey.body.error).toBe('invalid_grant');

    const forAnotherUrl = await postForm(`${gh.issuer}/token`, form, {
      dpop: await dpopProof(key, { htm: 'POST', htu: `${gh.issuer}/userinfo` }),
    });
    expect(forAnotherUrl.status).toBe(400);
    expect(forAnotherUrl.body.error).toBe('invalid_dpop_proof');

    // None of the refusals spent or revoked the refresh token.
    const refreshed = await tokenRequest(gh.issuer, form, key);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.token_type).toBe('DPoP');
    expect(claimsOf(refreshed.body.access_token).cnf).toEqual({ jkt: key.thumbprint });
  });
});
