// The authorization server and the demo API in ONE process on the in-process store: what
// `pnpm start` runs without REDIS_URL, and what the browser end-to-end test starts.
//
// Why one process: the in-process store tells resource servers about revoked grants only inside
// this process (`gatehouse.revocations`, handed to the demo API below). A demo API in another
// process would never hear of a sign-out or a replayed refresh token and would keep accepting
// that grant's access tokens until they expire. With Redis the two run as separate processes and
// revocations travel over Redis Pub/Sub.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import { createDemoApi, type DemoTokenStorage } from '@gatehouse/demo-api';
import { createGatehouseServer, demoClients, type GatehouseOptions, loadConfig } from '@gatehouse/server';

export const DEMO_EMAIL = 'demo@example.com';
const DEFAULT_API_URL = 'http://localhost:4001';

export interface DemoStackOptions {
  /** The server's port (default 4000); its issuer is `http://localhost:<port>`. */
  readonly serverPort?: number;
  /** The demo API's port (default 4001); its URL `http://localhost:<port>` is the tokens' audience. */
  readonly apiPort?: number;
  /** Server environment (ACCESS_TOKEN_TTL, GATEHOUSE_SECRET…); PORT and ISSUER are set here, REDIS_* ignored. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly onError?: (err: unknown) => void;
  /** Where the demo page keeps tokens (default `hybrid`). */
  readonly tokenStorage?: DemoTokenStorage;
  /** Extra server options (tests attach provider event listeners here). */
  readonly gatehouse?: Pick<GatehouseOptions, 'onProviderCreated' | 'outerMiddleware'>;
}

export interface DemoStack {
  readonly issuer: string;
  /** The demo API and its page. */
  readonly apiUrl: string;
  /** The seeded demo user. */
  readonly demoUser: { readonly email: string; readonly password: string };
  /** The secret of the seeded `demo-service` client (client credentials). */
  readonly serviceSecret: string;
  close(): Promise<void>;
}

/**
 * Starts the server and the demo API in this process on the in-process store, with the demo
 * clients (redirecting to the API's page) and the demo user.
 *
 * @example
 * ```ts
 * const stack = await startDemoStack({ serverPort: 0, apiPort: 0, env: { ACCESS_TOKEN_TTL: '5' } });
 * await stack.close();
 * ```
 */
export async function startDemoStack(options: DemoStackOptions = {}): Promise<DemoStack> {
  const serverPort = options.serverPort ?? 4000;
  const apiPort = options.apiPort ?? 4001;
  const apiUrl = `http://localhost:${apiPort}`;
  const { REDIS_URL: _url, REDIS_CLUSTER_NODES: _nodes, ...env } = options.env ?? {};
  const loaded = loadConfig({ ...env, PORT: String(serverPort), ISSUER: `http://localhost:${serverPort}` });
  // The demo API is the default resource under its usual name; on another port it is renamed
  // with it (its URL is the access tokens' audience).
  const config =
    apiUrl === DEFAULT_API_URL
      ? loaded
      : { ...loaded, resources: [{ uri: apiUrl, scopes: ['recipes:read', 'recipes:write'] }] };
  const demo = demoClients(apiUrl);
  const gatehouse = await createGatehouseServer(config, {
    ...options.gatehouse,
    clients: demo.clients,
    ...(options.onError ? { onError: options.onError } : {}),
  });
  // The in-process store always has its own revocations; the guard only satisfies the type.
  const revocations = gatehouse.revocations;
  if (!revocations) {
    await gatehouse.close();
    throw new Error('the demo stack runs on the in-process store');
  }
  const demoApi = createDemoApi({
    issuer: config.issuer,
    apiUrl,
    revocations,
    web: { tokenStorage: options.tokenStorage ?? 'hybrid' },
    ...(options.onError ? { onError: options.onError } : {}),
  });
  let api: Server | undefined;
  try {
    // A fresh store every start, so a fresh password every start (printed once).
    const demoUser = { email: DEMO_EMAIL, password: randomBytes(12).toString('base64url') };
    await gatehouse.accounts.create({ ...demoUser, name: 'Demo User', emailVerified: true });
    await demoApi.prepareWebPage();
    await gatehouse.listen(serverPort);
    api = demoApi.listen(apiPort, '0.0.0.0');
    await once(api, 'listening');
    const apiServer = api;
    return {
      issuer: config.issuer,
      apiUrl,
      demoUser,
      serviceSecret: demo.serviceSecret,
      async close() {
        demoApi.close();
        await Promise.all([
          new Promise<void>((resolve) => {
            apiServer.close(() => resolve());
            apiServer.closeIdleConnections();
          }),
          gatehouse.close(),
        ]);
      },
    };
  } catch (err) {
    demoApi.close();
    api?.close();
    await gatehouse.close();
    throw err;
  }
}
