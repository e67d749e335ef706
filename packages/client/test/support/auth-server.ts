/**
 * A real OAuth 2.1 / OpenID Connect authorization server for the SDK's integration tests: oidc-provider
 * 9.13.3 configured the way Gatehouse is (rotating refresh tokens whose replay revokes the grant, PKCE S256,
 * device flow, client credentials, revocation, RP-initiated logout, JWT access tokens per RFC 8707 resource),
 * with programmatic approval instead of login pages. `startAuthServer()` is the seam: point it at the real
 * Gatehouse server later and the tests stay as they are.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import type Koa from 'koa';
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';

export interface AuthServerOptions {
  /** Lifetime of JWT access tokens in seconds. */
  accessTokenTTL?: number;
  /** `interval` the device authorization response announces, in seconds. */
  deviceInterval?: number;
  /** RFC 9449 §8: every DPoP proof at the token endpoint must carry a nonce of the server's. */
  dpopRequireNonce?: boolean;
}

export interface TestClients {
  spa: { clientId: string; redirectUri: string; postLogoutRedirectUri: string };
  cli: { clientId: string };
  service: { clientId: string; clientSecret: string };
}

export interface AuthServer {
  issuer: string;
  /** The RFC 8707 resource (audience) of the protected test API. */
  apiResource: string;
  clients: TestClients;
  /** The `sub` of the one user who approves everything. */
  userId: string;
  /** Token requests the server processed (success or OAuth error), optionally of one grant type. */
  tokenRequests(grantType?: string): number;
  /** OAuth errors the token endpoint answered, in order (e.g. `invalid_grant`, `slow_down`). */
  tokenErrors(): string[];
  /** Follows an authorization URL through login and consent as the test user; resolves to the callback URL. */
  approve(authorizationUrl: string): Promise<string>;
  /** Approves a pending device authorization as the test user (RFC 8628 §3.3 done by a person, simulated). */
  approveDevice(userCode: string): Promise<void>;
  /** The next `count` device-code polls that would be `authorization_pending` answer `slow_down` instead. */
  slowDownNextPolls(count: number): void;
  /** The next `count` token requests lose their connection before the server reads them. */
  dropNextTokenRequests(count: number): void;
  close(): Promise<void>;
}

const apiResource = 'http://api.gatehouse.test';
const apiScopes = 'recipes:read recipes:write';
const userId = 'user-1';

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

async function signingKeys() {
  const keys = [];
  for (const alg of ['RS256', 'ES256'] as const) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    keys.push({ ...(await exportJWK(privateKey)), alg, use: 'sig', kid: `test-${alg}` });
  }
  return keys;
}

/** A cookie jar just big enough to follow oidc-provider's authorization redirects. */
async function followAuthorization(authorizationUrl: string, redirectUri: string): Promise<string> {
  const cookies = new Map<string, string>();
  let url = authorizationUrl;
  for (let hop = 0; hop < 10; hop++) {
    if (url.startsWith(redirectUri)) return url;
    const response = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
    });
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const index = pair?.indexOf('=') ?? -1;
      if (pair && index > 0) cookies.set(pair.slice(0, index), pair.slice(index + 1));
    }
    const location = response.headers.get('location');
    await response.body?.cancel();
    if (!location) throw new Error(`authorization stopped at ${url} with HTTP ${response.status}`);
    url = new URL(location, url).href;
  }
  throw new Error('too many redirects during authorization');
}

/**
 * Starts the authorization server on a free port of 127.0.0.1.
 *
 * @example
 * ```ts
 * const server = await startAuthServer({ accessTokenTTL: 60 });
 * afterAll(() => server.close());
 * ```
 */
export async function startAuthServer(options: AuthServerOptions = {}): Promise<AuthServer> {
  const httpServer = createServer();
  const port = await listen(httpServer);
  const issuer = `http://127.0.0.1:${port}`;
  const clients: TestClients = {
    spa: {
      clientId: 'test-spa',
      redirectUri: 'http://localhost:5173/callback',
      postLogoutRedirectUri: 'http://localhost:5173/',
    },
    cli: { clientId: 'test-cli' },
    // Characters a Basic header must form-urlencode (RFC 6749 §2.3.1); client secrets are printable ASCII.
    service: { clientId: 'test-service', clientSecret: 'test service+secret:0123456789/abcdef%20&=' },
  };

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clients.spa.clientId,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [clients.spa.redirectUri],
        post_logout_redirect_uris: [clients.spa.postLogoutRedirectUri],
      },
      {
        client_id: clients.cli.clientId,
        token_endpoint_auth_method: 'none',
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        response_types: [],
        redirect_uris: [],
      },
      {
        client_id: clients.service.clientId,
        client_secret: clients.service.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      },
    ],
    jwks: { keys: await signingKeys() },
    cookies: { keys: ['auth-server-test-cookie-key'] },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: { openid: ['sub'], email: ['email'] },
    findAccount: async (_ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, email: 'user@example.com' }),
    }),
    pkce: { required: () => true },
    // Gatehouse: every refresh rotates; presenting a used refresh token revokes the grant (oidc-provider default).
    rotateRefreshToken: () => true,
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: async () => false,
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: {
      AccessToken: options.accessTokenTTL ?? 60,
      ClientCredentials: options.accessTokenTTL ?? 60,
      AuthorizationCode: 60,
      DeviceCode: 600,
      Grant: 3600,
      IdToken: 3600,
      Interaction: 600,
      RefreshToken: 3600,
      Session: 3600,
    },
    features: {
      // oidc-provider's default, with server nonces when asked for (a random secret: nonces of this run only).
      dPoP: options.dpopRequireNonce
        ? { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true }
        : { enabled: true },
      devInteractions: { enabled: false },
      deviceFlow: { enabled: true },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => apiResource,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resource) => {
          if (resource !== apiResource) throw new errors.InvalidTarget();
          return {
            scope: apiScopes,
            audience: apiResource,
            accessTokenTTL: options.accessTokenTTL ?? 60,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
  });

  let processed: { grantType: string; error?: string }[] = [];
  let slowDowns = 0;
  let drops = 0;

  provider.use(async function countAndShapeTokenRequests(ctx: Koa.Context, next: Koa.Next) {
    if (ctx.method === 'POST' && ctx.path === '/token' && drops > 0) {
      drops--;
      ctx.req.socket.destroy();
      return;
    }
    if (ctx.method === 'GET' && ctx.path.startsWith('/interaction/')) {
      await finishInteraction(ctx);
      return;
    }
    await next();
    const oidc = (ctx as unknown as KoaContextWithOIDC).oidc;
    if (ctx.path === '/device/auth' && ctx.status === 200 && options.deviceInterval !== undefined) {
      (ctx.body as Record<string, unknown>).interval = options.deviceInterval;
    }
    if (ctx.path !== '/token' || ctx.method !== 'POST') return;
    const grantType = String(oidc?.params?.grant_type ?? '');
    let error = (ctx.body as { error?: string } | undefined)?.error;
    if (error === 'authorization_pending' && slowDowns > 0) {
      slowDowns--;
      error = 'slow_down';
      ctx.body = { error, error_description: 'you are polling too quickly' };
    }
    processed.push(error === undefined ? { grantType } : { grantType, error });
  });

  /** The login and consent pages, answered at once for the test user. */
  async function finishInteraction(ctx: Koa.Context): Promise<void> {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const clientId = String(details.params.client_id);
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: userId, clientId });
    if (!grant) throw new Error('grant vanished during the interaction');
    const missing = details.prompt.details as {
      missingOIDCScope?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(resource, scopes.join(' '));
    }
    const grantId = await grant.save();
    ctx.respond = false;
    await provider.interactionFinished(
      ctx.req,
      ctx.res,
      { login: { accountId: userId }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  }

  httpServer.on('request', provider.callback());

  return {
    issuer,
    apiResource,
    clients,
    userId,
    tokenRequests: (grantType) =>
      processed.filter((request) => grantType === undefined || request.grantType === grantType).length,
    tokenErrors: () => processed.flatMap((request) => (request.error ? [request.error] : [])),
    approve: (authorizationUrl) => followAuthorization(authorizationUrl, clients.spa.redirectUri),
    async approveDevice(userCode) {
      const code = await provider.DeviceCode.findByUserCode(userCode.toUpperCase().replace(/\W/g, ''));
      if (!code?.clientId) throw new Error(`no pending device authorization for ${userCode}`);
      const params = (code.params ?? {}) as { scope?: string };
      const requested = (params.scope ?? '').split(' ').filter(Boolean);
      const grant = new provider.Grant({ accountId: userId, clientId: code.clientId });
      const oidcScopes = requested.filter((scope) => !apiScopes.split(' ').includes(scope));
      const resourceScopes = requested.filter((scope) => apiScopes.split(' ').includes(scope));
      if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
      if (resourceScopes.length) grant.addResourceScope(apiResource, resourceScopes.join(' '));
      code.grantId = await grant.save();
      code.accountId = userId;
      code.authTime = Math.floor(Date.now() / 1000);
      code.scope = requested.join(' ');
      code.resource = apiResource;
      await code.save();
    },
    slowDownNextPolls(count) {
      slowDowns = count;
    },
    dropNextTokenRequests(count) {
      drops = count;
    },
    close: () =>
      new Promise<void>((resolve) => {
        processed = [];
        httpServer.closeAllConnections();
        httpServer.close(() => resolve());
      }),
  };
}
