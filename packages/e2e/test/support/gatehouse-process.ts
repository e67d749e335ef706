import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '@gatehouse/testkit';
import { TEST_CLIENTS } from '../../../server/test/support/gatehouse.ts';

const MAIN = fileURLToPath(new URL('../../../server/src/main.ts', import.meta.url));
const MEMORY_PROBE = fileURLToPath(new URL('./memory-probe.ts', import.meta.url));

/** One secret for every instance of a test: instances that share Redis must share it. */
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

/** Starts the server process and waits until `/healthz` answers (generous deadline, no timing asserted). */
export async function startGatehouseProcess(options: GatehouseProcessOptions): Promise<GatehouseProcess> {
  const port = options.port ?? (await freePort());
  const issuer = options.issuer ?? `http://localhost:${port}`;
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-e2e-'));
  const clientsFile = join(dir, 'clients.json');
  await writeFile(clientsFile, JSON.stringify(TEST_CLIENTS));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
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
  const child = spawn(process.execPath, ['--conditions=@gatehouse/source', ...probe, MAIN], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`gatehouse exited with ${child.exitCode} at start:\n${output}`);
    }
    const healthy = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (healthy) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
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

/** Megabytes with one decimal, for measurement logs. */
export function mb(bytes: number | undefined): string {
  return bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
