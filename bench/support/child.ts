import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** Where the bench's own scripts live, for spawning them as child processes. */
export const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
export const REPO_DIR = fileURLToPath(new URL('../..', import.meta.url));

/** Node flags every child gets: workspace packages run from their TypeScript source. */
export const NODE_FLAGS = ['--conditions=@gatehouse/source', '--no-warnings'];

export interface NodeChild {
  readonly child: ChildProcess;
  output(): string;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
  stop(): Promise<void>;
}

/** Spawns `node <script>` with the workspace flags; stdout and stderr are kept for error messages. */
export function spawnNode(
  script: string,
  args: readonly string[] = [],
  env: Record<string, string> = {},
  extraFlags: readonly string[] = [],
): NodeChild {
  const child = spawn(process.execPath, [...NODE_FLAGS, ...extraFlags, script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  const keep = (data: Buffer) => {
    output = (output + data.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** Runs a bench worker script to completion and returns the one message it sends over IPC. */
export async function runWorker<T>(
  script: string,
  input: unknown,
  options: { env?: Record<string, string>; flags?: readonly string[]; timeoutMs?: number } = {},
): Promise<T> {
  const worker = spawnNode(script, [JSON.stringify(input)], options.env, options.flags);
  return new Promise<T>((resolve, reject) => {
    let result: { ok: true; value: T } | { ok: false; error: string } | undefined;
    const timer = setTimeout(() => {
      void worker.stop();
      reject(new Error(`${script} timed out\n${worker.output()}`));
    }, options.timeoutMs ?? 300_000);
    worker.child.on('message', (message) => {
      result = message as typeof result;
    });
    worker.child.once('exit', (code) => {
      clearTimeout(timer);
      if (result?.ok) resolve(result.value);
      else if (result) reject(new Error(`${script}: ${result.error}`));
      else reject(new Error(`${script} exited with ${code} without a result\n${worker.output()}`));
    });
  });
}

/** The worker side of {@link runWorker}: reads the input, sends the result or the error, exits. */
export function workerMain<I, O>(body: (input: I) => Promise<O>): void {
  const input = JSON.parse(process.argv[2] ?? '{}') as I;
  body(input).then(
    (value) => {
      process.send?.({ ok: true, value }, () => process.exit(0));
    },
    (err: unknown) => {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.send?.({ ok: false, error }, () => process.exit(1));
    },
  );
}

/** Polls `url` until it answers 2xx; throws with the child's output when it dies or takes too long. */
export async function waitForHttp(url: string, owner: NodeChild, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (owner.child.exitCode !== null) {
      throw new Error(`process exited with ${owner.child.exitCode} at start:\n${owner.output()}`);
    }
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer in time:\n${owner.output()}`);
    await sleep(100);
  }
}
