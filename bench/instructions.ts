/**
 * `node bench/instructions.ts [tokens] [warmup]`: instructions per client-credentials token (scenario 1's
 * request), Gatehouse against bare oidc-provider, counted by `valgrind --tool=callgrind`.
 * Timings on a shared 2-core machine move by 10–20% between runs; instruction counts move by about 1%,
 * so a change of a few percent is visible here before a bench run can show it.
 *
 * Each server runs under callgrind with instrumentation off; after `warmup` tokens (the JIT has
 * settled) it is switched on for `tokens` tokens (16 in flight, as the bench loads), then off again.
 * All threads of the process count (GC helpers, libuv pool), as the bench's /proc CPU time does.
 * Needs valgrind (callgrind_control) on PATH. Output files are kept in bench/results/callgrind/<pid of this script>/.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@gatehouse/testkit';
import { BENCH_DIR, NODE_FLAGS } from './support/child.ts';
import { loadServiceTokens, measureGatehouseAndBare } from './support/service-token-pair.ts';

const run = promisify(execFile);
const tokens = Number(process.argv[2] ?? 2000);
const warmup = Number(process.argv[3] ?? 3000);
// One directory per run: runs side by side do not mix their dumps.
const out = join(BENCH_DIR, `results/callgrind/${process.pid}`);
// `INSTRUCTIONS_NODE_FLAGS=--perf-basic-prof`: /tmp/perf-<pid>.map names the JIT code addresses
// callgrind reports as `0x…` (bench/results/callgrind/*.out name the pid).
const extraFlags = (process.env.INSTRUCTIONS_NODE_FLAGS ?? '').split(' ').filter(Boolean);

async function ready(url: string): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Instructions per token of one server script run under callgrind. */
async function measure(name: string, script: string, env: Record<string, string>): Promise<number> {
  const port = await freePort();
  const file = join(out, `${name}.out`);
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--instr-atstart=no',
      `--callgrind-out-file=${file}`,
      process.execPath,
      ...NODE_FLAGS,
      ...extraFlags,
      script,
    ],
    {
      env: { ...process.env, NODE_ENV: 'test', PORT: String(port), ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-5000);
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([
      ready(`${url}/.well-known/openid-configuration`),
      new Promise((_, reject) => child.once('exit', () => reject(new Error(`${name} exited: ${stderr}`)))),
    ]);
    await loadServiceTokens(url, warmup);
    await run('callgrind_control', ['-i', 'on', String(child.pid)]);
    await loadServiceTokens(url, tokens);
    await run('callgrind_control', ['-i', 'off', String(child.pid)]);
    await run('callgrind_control', ['-d', String(child.pid)]);
  } finally {
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await gone;
  }
  // The dump taken by `-d` holds the instrumented stretch (all threads together); its `totals`
  // line is written last. The file written at exit holds nothing (instrumentation was off).
  let total = 0;
  for (const dump of (await readdir(out)).filter((f) => f.startsWith(`${name}.out`))) {
    const text = await readFile(join(out, dump), 'utf8');
    if (!/^desc: Trigger: dump/im.test(text)) continue;
    total += Number(/^totals: (\d+)/m.exec(text)?.[1] ?? 0);
  }
  return total / tokens;
}

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
// INSTRUCTIONS_GATEHOUSE_MAIN: another checkout's main.ts (an earlier commit's, to compare).
const { gatehouse, bare } = await measureGatehouseAndBare(
  out,
  measure,
  process.env.INSTRUCTIONS_GATEHOUSE_MAIN,
);
const million = (n: number) => `${(n / 1e6).toFixed(3)}M`;
process.stdout.write(
  `instructions per token (${tokens} tokens after ${warmup} warm-up): Gatehouse ${million(gatehouse)}, ` +
    `bare oidc-provider ${million(bare)}, ratio bare/Gatehouse ${(bare / gatehouse).toFixed(3)}\n`,
);
