import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port.ts';

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
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' }, () => {
        socket.write('PING\r\n');
      });
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
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
  const port = options.port ?? (await freePort());
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'gatehouse-redis-')));
  const args = [
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
    child = spawn('redis-server', args, { stdio: 'ignore' });
    child.on('error', () => {});
    await waitForPort(port, child);
  };
  await launch();
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
