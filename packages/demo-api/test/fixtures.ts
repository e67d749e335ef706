import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createDemoApi, type DemoApi, type DemoApiOptions } from '../src/index.ts';

/** The frozen "now" of the tests. */
export const NOW = new Date('2026-01-01T00:00:00Z');
export const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);

/** A stand-in Gatehouse server: discovery, a JWKS that can go down, and RFC 9068 tokens. */
export interface TestIssuer {
  readonly issuer: string;
  jwksDown: boolean;
  /** Mints an access token for `audience`; `claims` override the defaults. */
  mint(audience: string, claims?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const kid = randomUUID();
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  let issuer = '';
  const state = { jwksDown: false };
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    } else if (req.url === '/jwks' && !state.jwksDown) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.statusCode = req.url === '/jwks' ? 503 : 404;
      res.end();
    }
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    get jwksDown() {
      return state.jwksDown;
    },
    set jwksDown(value) {
      state.jwksDown = value;
    },
    mint: (audience, claims = {}) =>
      new SignJWT({
        iss: issuer,
        sub: 'alice',
        aud: audience,
        // A public client without DPoP binding: its tokens are Bearer tokens (demo-spa's never are).
        client_id: 'spa',
        scope: 'openid recipes:read recipes:write',
        iat: NOW_SECONDS,
        exp: NOW_SECONDS + 900,
        jti: randomUUID(),
        gid: 'grant-alice',
        ...claims,
      })
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
        .sign(privateKey),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A demo API listening on a free port, with its verifier on the frozen clock. */
export interface RunningApi {
  readonly api: DemoApi;
  readonly url: string;
  close(): Promise<void>;
}

export async function startApi(
  issuer: TestIssuer,
  options: Partial<DemoApiOptions> = {},
): Promise<RunningApi> {
  // Listen first: the API URL (its audience) contains the port.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const api = createDemoApi({
    issuer: issuer.issuer,
    apiUrl: url,
    verifier: { now: () => NOW },
    ...options,
  });
  server.on('request', api.callback());
  server.keepAliveTimeout = 1;
  return {
    api,
    url,
    close: async () => {
      api.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
