// `pnpm start`: the authorization server (:4000) and the demo API with its page (:4001), straight
// from their TypeScript sources; nothing to build first.
//
// - Without REDIS_URL: ONE process (scripts/demo-stack.ts) on the in-process store, seeded with
//   the demo clients and user. One process because the in-process store announces revoked grants
//   on an in-process emitter: a demo API in a second process would never hear of a sign-out.
// - With REDIS_URL (or REDIS_CLUSTER_NODES): two processes, each service's own entry, exactly as
//   they are deployed; revocations travel over Redis Pub/Sub. The demo page's client `demo-spa`
//   is created, or updated when an older start left other settings; the demo user is created
//   unless it already exists.
//
// Ctrl-C (SIGINT) or SIGTERM stops both cleanly.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// (The Node.js version was checked by scripts/check-node.mjs before this file was loaded.)

/** `PORT` and `API_PORT` move the two services (defaults 4000 and 4001). */
function portFrom(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`gatehouse: ${name} must be a port number (1-65535), got "${value}"`);
    process.exit(1);
  }
  return port;
}
const SERVER_PORT = portFrom('PORT', 4000);
const API_PORT = portFrom('API_PORT', 4001);
const issuer = `http://localhost:${SERVER_PORT}`;
const apiUrl = `http://localhost:${API_PORT}`;

function printBlock(lines: readonly string[]): void {
  process.stdout.write(`\n${lines.map((line) => `  ${line}`).join('\n')}\n\n`);
}

function onStopSignal(stop: () => Promise<void> | void): void {
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    // In-flight requests get a moment to finish; an open browser tab's keep-alive does not hold us.
    setTimeout(() => process.exit(0), 5_000).unref();
    void Promise.resolve(stop()).finally(() => process.exit(0));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

function startupFailure(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (code === 'EADDRINUSE') {
    return `port ${SERVER_PORT} or ${API_PORT} is already in use (another \`pnpm start\`?)`;
  }
  return err instanceof Error ? err.message : String(err);
}

async function runInOneProcess(): Promise<void> {
  const { startDemoStack } = await import('./demo-stack.ts');
  let stack: Awaited<ReturnType<typeof startDemoStack>>;
  try {
    stack = await startDemoStack({
      serverPort: SERVER_PORT,
      apiPort: API_PORT,
      env: process.env,
      onError: (err) => console.error('gatehouse: unexpected error', err),
    });
  } catch (err) {
    console.error(`gatehouse: ${startupFailure(err)}`);
    process.exit(1);
  }
  const user = stack.demoUser;
  printBlock([
    'Gatehouse is running.',
    `  Demo page      ${stack.apiUrl}/`,
    `  Sign in as     ${user.email}  /  ${user.password}`,
    `  Server         ${stack.issuer}   (${stack.issuer}/.well-known/openid-configuration)`,
    `  Demo API       ${stack.apiUrl}   (${stack.apiUrl}/openapi.json)`,
    `  Clients        demo-spa (PKCE, DPoP) · demo-cli (device code) · demo-service (secret ${stack.serviceSecret})`,
    '  Store          IN-PROCESS, in this one process: everything is lost on exit. Set REDIS_URL to keep it.',
    'Ctrl-C stops both.',
  ]);
  onStopSignal(() => stack.close());
}

/** `redis://user:secret@host` without the secret, for printing. */
function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.href;
  } catch {
    return '(unparseable URL)';
  }
}

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

/** Runs `pnpm gatehouse <args>` (the admin CLI) and returns its output, or throws its error line. */
function gatehouseCli(args: readonly string[]): string {
  const cli = join(root, 'packages/server/src/cli/main.ts');
  const result = spawnSync(process.execPath, ['--conditions=@gatehouse/source', cli, ...args], {
    env: process.env,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(result.stderr.trim() || `exit ${result.status}`);
  return result.stdout;
}

/** Whether a stored client has every field of `seed` as the seed has it (stored extras aside). */
function hasSeededMetadata(
  stored: Readonly<Record<string, unknown>>,
  seed: Readonly<Record<string, unknown>>,
) {
  return Object.entries(seed).every(
    ([field, value]) => JSON.stringify(stored[field]) === JSON.stringify(value),
  );
}

/**
 * Registers the demo page's client in Redis, or brings an existing `demo-spa` up to the current
 * seed: a Redis seeded by an older version keeps working with this version's demo page (which
 * needs, for one, `dpop_bound_access_tokens`). The seed owns `demo-spa`; edits made to it by
 * hand are replaced.
 */
async function seedDemoSpa(): Promise<string> {
  const { demoClients } = await import('@gatehouse/server');
  const spa = demoClients(apiUrl).clients.find((client) => client.client_id === 'demo-spa');
  if (!spa) return 'demo-spa is not among the demo clients';
  try {
    const registered = JSON.parse(gatehouseCli(['clients', 'list', '--json'])) as Record<string, unknown>[];
    const current = registered.find((client) => client.client_id === 'demo-spa');
    if (current === undefined) {
      gatehouseCli(['clients', 'add', '--json', JSON.stringify(spa)]);
      return 'demo-spa (registered now, for the demo page)';
    }
    if (hasSeededMetadata(current, spa)) return 'demo-spa (already registered)';
    await replaceStoredClient(spa);
    return 'demo-spa (registered before with other settings; updated to the current demo page)';
  } catch (err) {
    return `demo-spa could not be registered: ${(err as Error).message}`;
  }
}

/**
 * Overwrites a client the CLI registered (it stays in `clients list`) with `metadata`, validated
 * and completed as `clients add` does. One write of the whole record: a server reading the
 * client meanwhile sees the old metadata or the new, never a mix.
 */
async function replaceStoredClient(metadata: Readonly<Record<string, unknown>>): Promise<void> {
  const [{ loadConfig }, { createStore }, { newClientMetadata }] = await Promise.all([
    import('@gatehouse/server'),
    import('@gatehouse/server/internal/store'),
    import('@gatehouse/server/internal/cli/new-client-metadata'),
  ]);
  const client = newClientMetadata(metadata, Math.floor(Date.now() / 1000));
  const store = await createStore(loadConfig(process.env), { connectWaitMs: 5_000 });
  try {
    await new store.Adapter('Client').upsert(client.client_id, { ...client });
  } finally {
    await store.close();
  }
}

/**
 * Creates the demo user in Redis unless that email already has an account; only a password made
 * now can be printed.
 */
async function seedDemoUser(): Promise<string> {
  const [{ loadConfig, seedDemoUser: seed, DEMO_EMAIL }, { createStore }] = await Promise.all([
    import('@gatehouse/server'),
    import('@gatehouse/server/internal/store'),
  ]);
  const config = loadConfig(process.env);
  if (config.redis.kind === 'memory') return 'no Redis configured';
  let store: Awaited<ReturnType<typeof createStore>>;
  try {
    store = await createStore(config, { connectWaitMs: 5_000 });
  } catch {
    return 'Redis is not reachable';
  }
  try {
    const created = await seed(store.accounts);
    return created
      ? `${created.email}  /  ${created.password}`
      : `${DEMO_EMAIL}  (existing account, password unchanged)`;
  } catch (err) {
    return `the demo user could not be created: ${(err as Error).message}`;
  } finally {
    await store.close();
  }
}

async function runTwoProcesses(): Promise<void> {
  // The server's default resource is the demo API at :4001; on another port, tell it where.
  const resources: Record<string, string> = {};
  if (API_PORT !== 4001 && !process.env.GATEHOUSE_RESOURCES_FILE) {
    const file = join(await mkdtemp(join(tmpdir(), 'gatehouse-start-')), 'resources.json');
    await writeFile(file, JSON.stringify([{ uri: apiUrl, scopes: ['recipes:read', 'recipes:write'] }]));
    resources.GATEHOUSE_RESOURCES_FILE = file;
  }
  const clients = await seedDemoSpa();
  const user = await seedDemoUser();
  const services = [
    {
      name: 'server',
      entry: 'packages/server/src/main.ts',
      env: { PORT: String(SERVER_PORT), ...resources },
    },
    {
      name: 'demo-api',
      entry: 'packages/demo-api/src/main.ts',
      env: { PORT: String(API_PORT), ISSUER: issuer, API_URL: apiUrl },
    },
  ];
  const children: ChildProcess[] = services.map((service) =>
    spawn(process.execPath, ['--conditions=@gatehouse/source', join(root, service.entry)], {
      stdio: 'inherit',
      env: { ...process.env, ...service.env },
    }),
  );
  let stopping = false;
  const stop = () => {
    stopping = true;
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  let exitCode = 0;
  const exited = Promise.all(
    children.map(
      (child, i) =>
        new Promise<void>((resolve) => {
          child.on('exit', (code) => {
            if (!stopping) {
              console.error(`${services[i]?.name} exited (${code}); stopping the other.`);
              exitCode = code ?? 1;
              stop();
            }
            resolve();
          });
        }),
    ),
  );

  for (let attempt = 0; attempt < 60 && !stopping; attempt++) {
    if ((await healthy(`${issuer}/healthz`)) && (await healthy(`${apiUrl}/health`))) {
      const store = process.env.REDIS_CLUSTER_NODES
        ? `Redis Cluster (${process.env.REDIS_CLUSTER_NODES})`
        : `Redis at ${redacted(process.env.REDIS_URL ?? '')}`;
      printBlock([
        'Gatehouse is running (two processes).',
        `  Demo page      ${apiUrl}/`,
        `  Sign in as     ${user}`,
        `  Server         ${issuer}   (${issuer}/.well-known/openid-configuration)`,
        `  Demo API       ${apiUrl}   (${apiUrl}/openapi.json)`,
        `  Clients        ${clients}`,
        `  Store          ${store}`,
        'Ctrl-C stops both.',
      ]);
      break;
    }
    await sleep(500);
  }
  await exited;
  process.exit(exitCode);
}

if (process.env.REDIS_URL || process.env.REDIS_CLUSTER_NODES) await runTwoProcesses();
else await runInOneProcess();
