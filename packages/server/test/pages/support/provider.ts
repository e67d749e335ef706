import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { freePort } from '@gatehouse/testkit';
import type Provider from 'oidc-provider';
import type { ClientMetadata } from 'oidc-provider';
import type { AccountStore, Mailer } from '../../../src/accounts/index.ts';
import { type Config, loadConfig } from '../../../src/config/config.ts';
import type { RateLimiter } from '../../../src/security/index.ts';
import { createGatehouseServer, type GatehouseOptions } from '../../../src/server.ts';

export const PUBLIC_CLIENT_ID = 'recipe-box';
export const PUBLIC_CLIENT_NAME = 'Recipe Box';
export const CONFIDENTIAL_CLIENT_ID = 'recipe-service';
export const CONFIDENTIAL_CLIENT_SECRET = 'a-long-enough-client-secret-for-tests';
export const DEVICE_CLIENT_ID = 'recipe-tv';

/** Where the server keeps accounts, counters and tokens: a standalone Redis or a Cluster's seeds. */
export type TestRedis = { readonly url: string } | { readonly seeds: string };

export interface TestServerOptions {
  /** REDIS_URL (`{ url }`, e.g. a RedisProcess) or REDIS_CLUSTER_NODES (`{ seeds }`); in-process store when omitted. */
  readonly redis?: TestRedis;
  /** GATEHOUSE_REGISTRATION; `open` when omitted. */
  readonly selfRegistration?: 'open' | 'closed';
  /** SMTP_URL; mail stays in the mailer's outbox when omitted. */
  readonly smtpUrl?: string;
  /** TRUST_PROXY=1: X-Forwarded-Proto decides whether the request was https. */
  readonly trustProxy?: boolean;
  /** Page, mail and security events; silent when omitted. */
  readonly log?: GatehouseOptions['log'];
}

export interface TestServer {
  /** The issuer, `http://127.0.0.1:<port>`. */
  readonly issuer: string;
  /** Where the public client's redirect_uri lives: another origin than the issuer. */
  readonly clientOrigin: string;
  readonly redirectUri: string;
  readonly config: Config;
  readonly accounts: AccountStore;
  readonly limiter: RateLimiter;
  readonly mailer: Mailer;
  /** The provider instance serving requests now (a key rotation replaces it). */
  readonly provider: Provider;
  close(): Promise<void>;
}

/** The clients of the sign-in page tests, as Gatehouse's clients file would list them. */
function testClients(clientOrigin: string, redirectUri: string): ClientMetadata[] {
  return [
    {
      client_id: PUBLIC_CLIENT_ID,
      client_name: PUBLIC_CLIENT_NAME,
      token_endpoint_auth_method: 'none',
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: [`${clientOrigin}/signed-out`],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
    {
      client_id: DEVICE_CLIENT_ID,
      client_name: 'Recipe TV',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: [],
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      response_types: [],
    },
    {
      client_id: CONFIDENTIAL_CLIENT_ID,
      client_secret: CONFIDENTIAL_CLIENT_SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: [],
      grant_types: ['client_credentials'],
      response_types: [],
      // A client_credentials token is for an API: the demo API's scopes, Gatehouse's default resource.
      scope: 'recipes:read recipes:write',
    },
  ];
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * The real Gatehouse server (`createGatehouseServer`) configured through its environment,
 * plus a "client" on another origin that answers the redirect_uri.
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const [port, clientPort] = await Promise.all([freePort(), freePort()]);
  const issuer = `http://127.0.0.1:${port}`;
  const clientOrigin = `http://127.0.0.1:${clientPort}`;
  const redirectUri = `${clientOrigin}/callback`;
  const redis = options.redis;
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    ISSUER: issuer,
    GATEHOUSE_SECRET: randomBytes(32).toString('hex'),
    GATEHOUSE_REGISTRATION: options.selfRegistration ?? 'open',
    SMTP_URL: options.smtpUrl,
    TRUST_PROXY: options.trustProxy ? '1' : '0',
    REDIS_URL: redis && 'url' in redis ? redis.url : undefined,
    REDIS_CLUSTER_NODES: redis && 'seeds' in redis ? redis.seeds : undefined,
  });
  const server = await createGatehouseServer(config, {
    clients: testClients(clientOrigin, redirectUri),
    ...(options.log ? { log: options.log } : {}),
  });
  const client = createServer((req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><title>Recipe Box</title><h1>Back at Recipe Box</h1><p>${req.url ?? ''}</p>`);
  });
  try {
    await Promise.all([server.listen(port), listen(client, clientPort)]);
  } catch (err) {
    await Promise.all([server.close(), close(client)]);
    throw err;
  }

  return {
    issuer,
    clientOrigin,
    redirectUri,
    config,
    accounts: server.accounts,
    limiter: server.limiter,
    mailer: server.mailer,
    get provider() {
      return server.host.provider;
    },
    async close() {
      await Promise.all([server.close(), close(client)]);
    },
  };
}

export interface PkceRequest {
  readonly url: string;
  readonly verifier: string;
  readonly state: string;
}

/** An authorization request of the public client with PKCE (RFC 7636, S256). */
export function authorizationRequest(
  server: TestServer,
  scope = 'openid email profile offline_access',
): PkceRequest {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(8).toString('hex');
  const url = new URL(`${server.issuer}/authorize`);
  url.search = new URLSearchParams({
    client_id: PUBLIC_CLIENT_ID,
    response_type: 'code',
    redirect_uri: server.redirectUri,
    scope,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  return { url: url.href, verifier, state };
}

export interface TokenResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export async function tokenRequest(
  server: TestServer,
  params: Record<string, string>,
): Promise<TokenResponse> {
  const response = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export function exchangeCode(server: TestServer, code: string, verifier: string): Promise<TokenResponse> {
  return tokenRequest(server, {
    grant_type: 'authorization_code',
    client_id: PUBLIC_CLIENT_ID,
    code,
    redirect_uri: server.redirectUri,
    code_verifier: verifier,
  });
}

export function refresh(
  server: TestServer,
  refreshToken: string,
  clientId = PUBLIC_CLIENT_ID,
): Promise<TokenResponse> {
  return tokenRequest(server, {
    grant_type: 'refresh_token',
    client_id: clientId,
    refresh_token: refreshToken,
  });
}

/** The payload of a JWT, unverified (the tests only read claims the provider just issued). */
export function jwtClaims(jwt: string): Record<string, unknown> {
  const payload = jwt.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}
