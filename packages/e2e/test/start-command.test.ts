// `pnpm start`, the README's first command, as a newcomer runs it: the root script (Node.js
// version check, then scripts/start.ts) in a child process, without and with REDIS_URL. A person
// reads the printed block, signs in on the pages with the printed password, and the demo API
// answers with the token. Ports come from PORT and API_PORT so a running `pnpm start` is left alone.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, type RedisProcess, startRedis } from '@gatehouse/testkit';
import { dpopKey, dpopProof } from '@gatehouse/testkit/dpop';
import { signInThroughPages } from '@gatehouse/testkit/sign-in';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Started {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly issuer: string;
  readonly apiUrl: string;
  readonly ports: Ports;
}

interface Ports {
  readonly port: number;
  readonly apiPort: number;
}

/**
 * Runs the root `start` script's two steps with this Node.js and waits for the printed block.
 * `ports`: those of an earlier start, to start again as a person does (same URLs); default free ones.
 */
async function pnpmStart(env: Record<string, string>, ports?: Ports): Promise<Started> {
  const { port, apiPort } = ports ?? { port: await freePort(), apiPort: await freePort() };
  // The script's first step says nothing on a Node.js that can run the sources.
  expect(execFileSync(process.execPath, ['scripts/check-node.mjs'], { cwd: root, encoding: 'utf8' })).toBe(
    '',
  );
  // Its own process group, so that Ctrl-C reaches both services in the two-process mode.
  const child = spawn(process.execPath, ['--conditions=@gatehouse/source', 'scripts/start.ts'], {
    cwd: root,
    detached: true,
    env: { ...process.env, PORT: String(port), API_PORT: String(apiPort), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 45_000;
  while (!/Ctrl-C stops both/.test(output)) {
    if (child.exitCode !== null) throw new Error(`pnpm start exited ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`pnpm start printed no banner:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    child,
    output: () => output,
    issuer: `http://localhost:${port}`,
    apiUrl: `http://localhost:${apiPort}`,
    ports: { port, apiPort },
  };
}

/** Ctrl-C: SIGINT to the whole process group, as a terminal sends it. */
async function stop(started: Started | undefined): Promise<number | null> {
  if (!started) return null;
  if (started.child.exitCode !== null || started.child.signalCode !== null) return started.child.exitCode;
  const exited = once(started.child, 'exit');
  process.kill(-(started.child.pid as number), 'SIGINT');
  const [code] = (await exited) as [number | null];
  return code;
}

/** What the printed block says about the demo user: `email  /  password`. */
function printedCredentials(output: string): { email: string; password: string } {
  const match = /Sign in as\s+(\S+@\S+)\s+\/\s+(\S+)/.exec(output);
  if (!match?.[1] || !match[2]) throw new Error(`no credentials printed:\n${output}`);
  return { email: match[1], password: match[2] };
}

/**
 * Signs in on the pages as the demo page's client does: `demo-spa` is DPoP-bound, so the code is
 * redeemed with a proof of a key (RFC 9449) and the demo API is called with the bound token and a
 * fresh proof. Without a proof, the same exchange is refused.
 */
async function signInAndCallApi(
  started: Started,
  { email, password } = printedCredentials(started.output()),
): Promise<unknown> {
  const client = { id: 'demo-spa', redirectUri: `${started.apiUrl}/callback` };
  const withoutProof = await signInThroughPages({ issuer: started.issuer, email, password, client });
  expect(withoutProof.token).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });

  const key = await dpopKey();
  const { token, stoppedAt } = await signInThroughPages({
    issuer: started.issuer,
    email,
    password,
    client,
    dpop: key,
  });
  expect(stoppedAt).toBeUndefined();
  expect(token?.body.token_type).toBe('DPoP');
  const accessToken = String(token?.body.access_token);
  const me = await fetch(`${started.apiUrl}/me`, {
    headers: {
      authorization: `DPoP ${accessToken}`,
      dpop: await dpopProof(key, { htm: 'GET', htu: `${started.apiUrl}/me`, accessToken }),
    },
  });
  expect(me.status).toBe(200);
  return me.json();
}

/** Runs the admin CLI (`pnpm gatehouse …`) against `env`'s Redis; returns stdout. */
function gatehouseCli(env: Record<string, string>, args: readonly string[]): string {
  const result = spawnSync(
    process.execPath,
    ['--conditions=@gatehouse/source', 'packages/server/src/cli/main.ts', ...args],
    { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' },
  );
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout;
}

describe('the Node.js check every root script runs first', () => {
  // On Linux, `pnpm install` puts Node.js 24 (the npm registry's node-linux-* package) first on
  // the scripts' PATH; elsewhere an old machine Node.js must get one line, not a stack trace.
  const asVersion = (version: string) =>
    spawnSync(
      process.execPath,
      [
        '--import',
        `data:text/javascript,Object.defineProperty(process.versions,"node",{value:"${version}"})`,
        'scripts/check-node.mjs',
      ],
      { cwd: root, encoding: 'utf8' },
    );

  it.each(['20.20.2', '22.12.0', '22.17.1'])(
    'Node.js %s: exit 1 and one line naming what to install',
    (version) => {
      const result = asVersion(version);
      expect(result.status).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toEqual([
        `Gatehouse needs Node.js 22.18 or newer (24 LTS recommended); this is Node.js ${version}. Install Node.js 24 and run the command again.`,
      ]);
    },
  );

  it.each(['22.18.0', '24.0.0'])('Node.js %s: silent', (version) => {
    expect(asVersion(version)).toMatchObject({ status: 0, stdout: '', stderr: '' });
  });
});

describe('pnpm start', () => {
  let started: Started | undefined;
  afterEach(async () => {
    await stop(started);
    started = undefined;
  });

  it('in-process: prints the demo user, whose sign-in on the pages gets a token the demo API accepts', async () => {
    started = await pnpmStart({});
    expect(started.output()).toContain('Store          IN-PROCESS');
    const discovery = await fetch(`${started.issuer}/.well-known/openid-configuration`);
    expect(((await discovery.json()) as { issuer: string }).issuer).toBe(started.issuer);
    expect(await signInAndCallApi(started)).toMatchObject({ client_id: 'demo-spa' });
    expect(await stop(started)).toBe(0);
  });

  describe('with REDIS_URL: two processes', () => {
    let redis: RedisProcess;
    beforeAll(async () => {
      redis = await startRedis();
    });
    afterAll(async () => {
      await redis?.cleanup();
    });

    it('seeds the demo client and user once, a second start keeps them, and a stale demo-spa is brought up to date', {
      timeout: 120_000,
    }, async () => {
      const env = { REDIS_URL: redis.url, GATEHOUSE_SECRET: 'start-command-test-secret-0123456789abcdef' };
      started = await pnpmStart(env);
      expect(started.output()).toContain('Gatehouse is running (two processes).');
      expect(started.output()).toContain('demo-spa (registered now, for the demo page)');
      const demoUser = printedCredentials(started.output());
      expect(await signInAndCallApi(started)).toMatchObject({ client_id: 'demo-spa' });
      expect(await stop(started)).toBe(0);

      // Started again on the same ports: the demo page's URLs, and so demo-spa's redirect URIs, are unchanged.
      const { ports } = started;
      started = await pnpmStart(env, ports);
      expect(started.output()).toContain('demo-spa (already registered)');
      expect(started.output()).toContain('(existing account, password unchanged)');
      expect(await stop(started)).toBe(0);

      // A Redis seeded by an older version: demo-spa without DPoP binding. The next start updates it, so
      // the demo page's client is DPoP-bound again and tokens without a proof are refused.
      const demoSpa = () =>
        (JSON.parse(gatehouseCli(env, ['clients', 'list', '--json'])) as Record<string, unknown>[]).find(
          (client) => client.client_id === 'demo-spa',
        );
      const {
        dpop_bound_access_tokens: bound,
        source: _source,
        client_id_issued_at: _issuedAt,
        ...stale
      } = demoSpa() ?? {};
      expect(bound).toBe(true);
      gatehouseCli(env, ['clients', 'remove', 'demo-spa']);
      gatehouseCli(env, ['clients', 'add', '--json', JSON.stringify(stale)]);
      expect(demoSpa()?.dpop_bound_access_tokens).toBeUndefined();

      started = await pnpmStart(env, ports);
      expect(started.output()).toContain(
        'demo-spa (registered before with other settings; updated to the current demo page)',
      );
      expect(demoSpa()?.dpop_bound_access_tokens).toBe(true);
      expect(await signInAndCallApi(started, demoUser)).toMatchObject({ client_id: 'demo-spa' });
      expect(await stop(started)).toBe(0);
    });
  });
});
