import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '@gatehouse/testkit';
import Koa from 'koa';
import compose from 'koa-compose';
import Provider from 'oidc-provider';
import {
  type AccountBackendTarget,
  type AccountStore,
  createAccountStore,
  createMailer,
  type Mailer,
} from '../../../src/accounts/index.ts';
import { type Config, loadConfig } from '../../../src/config.ts';
import {
  createInteractionPolicy,
  createInteractionRoutes,
  createLoadExistingGrant,
  createProviderPages,
  securityHeaders,
} from '../../../src/interactions/index.ts';
import { formEndpointGuard } from '../../../src/provider/form-endpoints.ts';
import {
  clientAuthThrottle,
  createRateLimiter,
  type RateLimiter,
  type RateLimiterBackend,
} from '../../../src/security/index.ts';

export const PUBLIC_CLIENT_ID = 'recipe-box';
export const PUBLIC_CLIENT_NAME = 'Recipe Box';
export const CONFIDENTIAL_CLIENT_ID = 'recipe-service';
export const CONFIDENTIAL_CLIENT_SECRET = 'a-long-enough-client-secret-for-tests';
export const DEVICE_CLIENT_ID = 'recipe-tv';

export interface TestServerOptions {
  readonly accounts?: AccountBackendTarget;
  readonly limiter?: RateLimiterBackend;
  readonly selfRegistration?: 'open' | 'closed';
  readonly smtpUrl?: string;
  /** TRUST_PROXY=1: X-Forwarded-Proto decides whether the request was https. */
  readonly trustProxy?: boolean;
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
  readonly provider: Provider;
  close(): Promise<void>;
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
 * A bare oidc-provider with Gatehouse's pages in front of it, composed the way the server's
 * app does (provider middleware on the app's own context), plus a "client" on another origin
 * that answers the redirect_uri.
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const [port, clientPort] = await Promise.all([freePort(), freePort()]);
  const issuer = `http://127.0.0.1:${port}`;
  const clientOrigin = `http://127.0.0.1:${clientPort}`;
  const redirectUri = `${clientOrigin}/callback`;
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    ISSUER: issuer,
    GATEHOUSE_REGISTRATION: options.selfRegistration ?? 'open',
    SMTP_URL: options.smtpUrl,
    GATEHOUSE_SECRET: randomBytes(32).toString('hex'),
    TRUST_PROXY: options.trustProxy ? '1' : '0',
  });
  const accounts = createAccountStore(options.accounts ?? { kind: 'memory' });
  const limiter = createRateLimiter(options.limiter ?? { kind: 'memory' });
  const mailer = createMailer(config, { info: () => {} });
  const pages = createProviderPages({ config });
  const cookieKeys = [randomBytes(32).toString('base64url')];

  const provider = new Provider(issuer, {
    clients: [
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
        token_endpoint_auth_method: 'none',
        redirect_uris: [],
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        response_types: [],
      },
      {
        client_id: CONFIDENTIAL_CLIENT_ID,
        client_secret: CONFIDENTIAL_CLIENT_SECRET,
        redirect_uris: [],
        grant_types: ['client_credentials'],
        response_types: [],
      },
    ],
    interactions: {
      policy: createInteractionPolicy(),
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    cookies: {
      keys: cookieKeys,
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    responseTypes: ['code'],
    // Issue 3: email and name in ID tokens too, not only at userinfo.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    findAccount: accounts.findAccount,
    loadExistingGrant: createLoadExistingGrant(accounts),
    renderError: pages.renderError,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      userinfo: { enabled: true },
      revocation: { enabled: true },
      deviceFlow: {
        enabled: true,
        userCodeInputSource: pages.userCodeInputSource,
        userCodeConfirmSource: pages.userCodeConfirmSource,
        successSource: pages.successSource,
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: pages.logoutSource,
        postLogoutSuccessSource: pages.postLogoutSuccessSource,
      },
    },
    ttl: {
      AccessToken: 900,
      AuthorizationCode: 60,
      DeviceCode: 600,
      IdToken: 3600,
      Interaction: 3600,
      RefreshToken: 3600,
      Grant: 3600,
      Session: 3600,
    },
    routes: {
      authorization: '/authorize',
      token: '/token',
      device_authorization: '/device/auth',
      code_verification: '/device',
      end_session: '/session/end',
      userinfo: '/userinfo',
      revocation: '/revoke',
    },
  });

  const throttle = clientAuthThrottle(limiter);
  const app = new Koa({ proxy: config.trustProxy });
  app.silent = true;
  app.keys = cookieKeys;
  app.use(securityHeaders());
  app.use(createInteractionRoutes({ provider: () => provider, accounts, config, mailer, limiter }));
  app.use(formEndpointGuard((ctx, request, next) => throttle(ctx, request, next)));
  app.use(compose(provider.middleware as Koa.Middleware[]));

  const server = createServer(app.callback());
  const client = createServer((req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><title>Recipe Box</title><h1>Back at Recipe Box</h1><p>${req.url ?? ''}</p>`);
  });
  await Promise.all([listen(server, port), listen(client, clientPort)]);
  if ((server.address() as AddressInfo).port !== port) throw new Error('port changed');

  return {
    issuer,
    clientOrigin,
    redirectUri,
    config,
    accounts,
    limiter,
    mailer,
    provider,
    async close() {
      await Promise.all([close(server), close(client), mailer.close()]);
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
