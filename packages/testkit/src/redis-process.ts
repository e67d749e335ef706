import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeClusterPort, freePort } from './free-port.ts';

export interface StartRedisOptions {
  /** Reuse a port (to restart a stopped server where clients expect it). */
  port?: number;
  /** Data directory; a fresh temporary one when omitted. */
  dir?: string;
  /** Extra `redis-server` arguments, e.g. `['--appendonly', 'yes']`. */
  args?: string[];
}

/** A private `redis-server` child process, never the machine's shared instance. */
export interface RedisProcess {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** SIGTERM and wait for exit (Redis saves AOF/RDB on SIGTERM when configured to). */
  stop(): Promise<void>;
  /** SIGKILL: the process dies without a goodbye. */
  kill(): Promise<void>;
  /** Start again on the same port and data directory. */
  restart(): Promise<void>;
  /** Stop and delete the data directory (when it was created here). */
  cleanup(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    // Ask for the server's pid, not just a PONG: if another test's redis-server took the port
    // first, answering is not enough, it must be ours.
    const pid = await new Promise<number | undefined>((resolve) => {
      let reply = '';
      const socket = createConnection({ port, host: '127.0.0.1' }, () => {
        socket.write('INFO server\r\n');
      });
      socket.on('data', (data) => {
        reply += data.toString();
        const match = reply.match(/process_id:(\d+)/);
        if (match) {
          socket.destroy();
          resolve(Number(match[1]));
        }
      });
      socket.once('error', () => resolve(undefined));
      socket.once('close', () => resolve(undefined));
    });
    if (pid === child.pid) return;
    if (pid !== undefined) throw new Error(`port ${port} is served by another redis-server (pid ${pid})`);
    await sleep(25);
  }
  throw new Error(`redis-server on port ${port} did not answer PING in ${timeoutMs} ms`);
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts `redis-server` on a free port (or `options.port`) with nothing persisted unless asked. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisProcess> {
  const cluster = options.args?.includes('--cluster-enabled') ?? false;
  const ownDir = options.dir === undefined;
  const pickPort = () => (cluster ? freeClusterPort() : freePort());
  let port = options.port ?? (await pickPort());
  let dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'gatehouse-redis-')));
  const args = () => [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--logfile',
    join(dir, 'redis.log'),
    ...(options.args ?? []),
  ];
  let child: ChildProcess;
  const launch = async () => {
    child = spawn('redis-server', args(), { stdio: 'ignore' });
    child.on('error', () => {});
    await waitForPort(port, child);
  };
  // Between freePort() and redis-server binding, a parallel test may take the port: try again
  // on a fresh port (and data directory) rather than fail the suite.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (err) {
      if (child! && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (options.port !== undefined || attempt >= 5) throw err;
      port = await pickPort();
      if (ownDir) {
        await rm(dir, { recursive: true, force: true });
        dir = await mkdtemp(join(tmpdir(), 'gatehouse-redis-'));
      }
    }
  }
  const stop = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      await exited(child);
    }
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    stop: () => stop('SIGTERM'),
    kill: () => stop('SIGKILL'),
    restart: async () => {
      await stop('SIGTERM');
      await launch();
    },
    cleanup: async () => {
      await stop('SIGKILL');
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
  };
}
