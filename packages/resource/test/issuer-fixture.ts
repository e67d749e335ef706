import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

/** A signing key of the fake issuer. */
export interface TestKey {
  kid: string;
  alg: 'ES256' | 'EdDSA';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function createTestKey(
  alg: 'ES256' | 'EdDSA' = 'ES256',
  kid: string = randomUUID(),
): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicJwk };
}

/** The frozen "now" of the tests: 2026-01-01T00:00:00Z. */
export const NOW = new Date('2026-01-01T00:00:00Z');
export const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);
export const AUDIENCE = 'https://api.example.test';

export interface MintOptions {
  key?: TestKey;
  /** Claims merged over the defaults; `undefined` removes a default claim. */
  claims?: Record<string, unknown>;
  /** Header merged over `{ alg, kid, typ: 'at+jwt' }`; `undefined` removes a field. */
  header?: Record<string, unknown>;
}

/**
 * A stand-in authorization server on a real port: discovery document, JWKS (mutable, can go down),
 * and RFC 9068 access tokens minted with its keys.
 */
export interface TestIssuer {
  readonly issuer: string;
  readonly keys: TestKey[];
  /** Keys published in the JWKS (defaults to all of `keys`). */
  published: TestKey[];
  /** When true, the JWKS endpoint answers 503. */
  jwksDown: boolean;
  /** How many times the JWKS was fetched. */
  jwksRequests: number;
  mint(options?: MintOptions): Promise<string>;
  close(): Promise<void>;
}

export function defaultClaims(issuer: string): Record<string, unknown> {
  return {
    iss: issuer,
    sub: 'user-1',
    aud: AUDIENCE,
    // A public client without DPoP binding: its tokens are Bearer tokens (demo-spa's never are).
    client_id: 'spa',
    scope: 'openid recipes:read',
    iat: NOW_SECONDS,
    exp: NOW_SECONDS + 900,
    jti: randomUUID(),
    gid: 'grant-1',
  };
}

function withoutUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const key = await createTestKey();
  let server: Server | undefined;
  const state: TestIssuer = {
    issuer: '',
    keys: [key],
    published: [key],
    jwksDown: false,
    jwksRequests: 0,
    async mint(options = {}) {
      const signer = options.key ?? key;
      const header = withoutUndefined({ alg: signer.alg, kid: signer.kid, typ: 'at+jwt', ...options.header });
      const claims = withoutUndefined({ ...defaultClaims(state.issuer), ...options.claims });
      // biome-ignore lint/suspicious/noExplicitAny: tests deliberately sign headers jose's types refuse.
      return new SignJWT(claims as JWTPayload).setProtectedHeader(header as any).sign(signer.privateKey);
    },
    close: () => new Promise((resolve) => (server ? server.close(() => resolve()) : resolve())),
  };
  server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer: state.issuer, jwks_uri: `${state.issuer}/jwks` }));
    } else if (req.url === '/jwks') {
      state.jwksRequests++;
      if (state.jwksDown) {
        res.statusCode = 503;
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/jwk-set+json');
      res.end(JSON.stringify({ keys: state.published.map((k) => k.publicJwk) }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (state as { issuer: string }).issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
