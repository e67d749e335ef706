import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeProtectedHeader, type JWK } from 'jose';
import { Provider } from 'oidc-provider';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryKeyRepository } from './key-repository.ts';
import { keySetAt } from './key-set.ts';
import { ensureSigningKeys, loadKeys, rotateSigningKey } from './signing-key-lifecycle.ts';
import type { SigningAlgorithm } from './signing-key-record.ts';

// Pins down what this module relies on in oidc-provider: every key of the `jwks` option is
// served at /jwks, and signing uses the first key matching the algorithm
// (lib/helpers/keystore.js selectForSign: a stable sort by score over the configured order).

const secret = 'provider-test-secret-with-32-characters';
const API = 'https://api.example';
const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function serve(
  published: JWK[],
  /** `null`: the resource names no alg. */
  alg: SigningAlgorithm | null = 'ES256',
  idTokenAlg: SigningAlgorithm | 'RS256' = 'ES256',
): Promise<string> {
  const provider = new Provider('http://localhost', {
    jwks: { keys: published },
    clients: [
      {
        client_id: 'svc',
        client_secret: 'svc-secret-with-at-least-32-characters',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      },
    ],
    clientDefaults: { id_token_signed_response_alg: idTokenAlg },
    ttl: { ClientCredentials: 900 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'read',
          accessTokenFormat: 'jwt',
          jwt: alg === null ? {} : { sign: { alg } },
        }),
      },
    },
  });
  const server = createServer(provider.callback()).listen(0, '127.0.0.1');
  servers.push(server);
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function issuedKid(base: string): Promise<string | undefined> {
  const response = await fetch(`${base}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from('svc:svc-secret-with-at-least-32-characters').toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'read', resource: API }),
  });
  const body = (await response.json()) as { access_token: string };
  expect(response.status).toBe(200);
  return decodeProtectedHeader(body.access_token).kid;
}

async function servedKids(base: string): Promise<(string | undefined)[]> {
  const jwks = (await (await fetch(`${base}/jwks`)).json()) as { keys: JWK[] };
  for (const key of jwks.keys) expect(key).not.toHaveProperty('d');
  return jwks.keys.map((key) => key.kid);
}

describe('oidc-provider with keySetAt', () => {
  it('publishes every key and signs with the first: the old key before activateAt, the new one after', async () => {
    const repo = new MemoryKeyRepository();
    const [old] = await ensureSigningKeys(repo, secret, 1000);
    const { added, records } = await rotateSigningKey(repo, secret, {
      now: 2000,
      jwksMaxAge: 300,
      accessTokenTTL: 900,
    });

    const before = await serve(keySetAt(records, 2000).published);
    expect(await servedKids(before)).toEqual([old?.kid, old?.rsa?.kid, added.kid, added.rsa?.kid]);
    expect(await issuedKid(before)).toBe(old?.kid);

    const after = await serve(keySetAt(records, added.activateAt).published);
    expect(await servedKids(after)).toEqual([added.kid, added.rsa?.kid, old?.kid, old?.rsa?.kid]);
    expect(await issuedKid(after)).toBe(added.kid);

    const retired = await serve(keySetAt(records, added.activateAt + 900).published);
    expect(await servedKids(retired)).toEqual([added.kid, added.rsa?.kid]);
  });

  it('signs with the first key of the requested algorithm, so an algorithm change needs care', async () => {
    const repo = new MemoryKeyRepository();
    const [ecdsa] = await ensureSigningKeys(repo, secret, 1000, 'ES256');
    const { added, records } = await rotateSigningKey(repo, secret, {
      now: 2000,
      jwksMaxAge: 300,
      accessTokenTTL: 900,
      alg: 'EdDSA',
    });
    const published = keySetAt(records, added.activateAt).published;
    expect(published.map((key) => key.kid)).toEqual([added.kid, added.rsa?.kid, ecdsa?.kid, ecdsa?.rsa?.kid]);
    // The retiring ES256 key is still in the keystore: anything that asks for ES256 gets it.
    expect(await issuedKid(await serve(published, 'ES256'))).toBe(ecdsa?.kid);
    expect(await issuedKid(await serve(published, 'EdDSA'))).toBe(added.kid);
  });

  it('signs a JWT access token with the ID token default when the resource names no alg', async () => {
    const repo = new MemoryKeyRepository();
    const [generation] = await ensureSigningKeys(repo, secret, 1000);
    const { published } = keySetAt(await loadKeys(repo, secret), 1000);
    // Why resources.ts names the main key's alg: RS256, the ID token default, must not sign access tokens.
    expect(await issuedKid(await serve(published, null, 'RS256'))).toBe(generation?.rsa?.kid);
    expect(await issuedKid(await serve(published, 'ES256', 'RS256'))).toBe(generation?.kid);
  });
});
