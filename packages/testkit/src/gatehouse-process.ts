import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { TEST_CLIENTS } from './clients.ts';
import { freePort } from './free-port.ts';

// The server's entry point as a file to run, not a module to import: the process is started the
// way operators start it (`node packages/server/src/main.ts`).
const MAIN = fileURLToPath(new URL('../../server/src/main.ts', import.meta.url));
const MEMORY_PROBE = fileURLToPath(new URL('./memory-probe.ts', import.meta.url));

/** One secret for every instance of a test: instances that share Redis must share it (it encrypts the signing keys). */
export const TEST_SECRET = 'reliability-secret-0123456789abcdef0123';

export interface GatehouseProcessOptions {
  /** `REDIS_URL` of a standalone Redis. */
  readonly redisUrl?: string;
  /** `REDIS_CLUSTER_NODES` seeds. */
  readonly clusterSeeds?: string;
  /** Listen port; a free one when omitted. */
  readonly port?: number;
  /** `ISSUER`; `http://localhost:<port>` when omitted. */
  readonly issuer?: string;
  /** Extra environment (ACCESS_TOKEN_TTL, GATEHOUSE_REGISTRATION_TOKEN, …). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Start from this process's environment instead of only `PATH` (the bench does, so a profile run
   * sees the same environment as the runner).
   * @default false
   */
  readonly inheritEnv?: boolean;
  /** Extra flags for `node` (`--cpu-prof`, `--no-warnings` …); `--conditions=@gatehouse/source` is always given. */
  readonly nodeFlags?: readonly string[];
  /** Preload the memory probe (`--expose-gc`), enabling {@link GatehouseProcess.memory}. */
  readonly memoryProbe?: boolean;
}

/** `process.memoryUsage()` of the server process, after a full GC when `gc` is true. */
export interface ProcessMemory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly gc: boolean;
}

/** A `node packages/server/src/main.ts` child process: the server exactly as operators run it. */
export interface GatehouseProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** `http://127.0.0.1:<port>`: where to send requests (the issuer may name another port). */
  readonly url: string;
  readonly issuer: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Heap and RSS after a forced GC (needs `memoryProbe`). */
  memory(): Promise<ProcessMemory>;
  /** Resident set size in bytes (from /proc), or undefined once the process is gone. */
  rss(): Promise<number | undefined>;
  /** Whether the process is still running. */
  alive(): boolean;
  /** Sends `signal` and resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Removes the clients file directory (kills the process first if still alive). */
  cleanup(): Promise<void>;
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/**
 * Starts the server process with {@link TEST_CLIENTS} (as a clients file) and {@link TEST_SECRET}, and
 * waits until `/healthz` answers (generous deadline, no timing asserted).
 */
export async function startGatehouseProcess(
  options: GatehouseProcessOptions = {},
): Promise<GatehouseProcess> {
  const port = options.port ?? (await freePort());
  const issuer = options.issuer ?? `http://localhost:${port}`;
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-process-'));
  const clientsFile = join(dir, 'clients.json');
  await writeFile(clientsFile, JSON.stringify(TEST_CLIENTS));
  const env: Record<string, string | undefined> = {
    ...(options.inheritEnv ? process.env : { PATH: process.env.PATH ?? '' }),
    NODE_ENV: 'test',
    PORT: String(port),
    ISSUER: issuer,
    GATEHOUSE_SECRET: TEST_SECRET,
    GATEHOUSE_CLIENTS_FILE: clientsFile,
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    ...(options.clusterSeeds ? { REDIS_CLUSTER_NODES: options.clusterSeeds } : {}),
    ...options.env,
  };
  const probe = options.memoryProbe ? ['--expose-gc', '--import', MEMORY_PROBE] : [];
  const flags = ['--conditions=@gatehouse/source', ...(options.nodeFlags ?? []), ...probe];
  const child = spawn(process.execPath, [...flags, MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`gatehouse exited with ${child.exitCode} at start:\n${output}`);
    }
    const healthy = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (healthy) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
      throw new Error(`gatehouse did not become healthy:\n${output}`);
    }
    await sleep(100);
  }
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    port,
    url,
    issuer,
    output: () => output,
    alive,
    async memory() {
      const from = output.length;
      child.kill('SIGUSR2');
      for (let i = 0; i < 200; i++) {
        const line = output.slice(from).match(/^MEMORY (\{.*\})$/m)?.[1];
        if (line) return JSON.parse(line) as ProcessMemory;
        await sleep(25);
      }
      throw new Error('the memory probe did not answer (started with memoryProbe?)');
    },
    async rss() {
      if (!alive()) return undefined;
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
      const kb = status.match(/^VmRSS:\s+(\d+)\s+kB/m)?.[1];
      return kb === undefined ? undefined : Number(kb) * 1024;
    },
    async stop(signal = 'SIGTERM') {
      if (alive()) child.kill(signal);
      return exited(child);
    },
    async cleanup() {
      if (alive()) {
        child.kill('SIGKILL');
        await exited(child);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
