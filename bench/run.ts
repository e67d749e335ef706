/**
 * `pnpm bench [--quick] [--only=1,4]`: every scenario in bench/scenarios, measured side by side in one run
 * so the numbers share one machine and one moment.
 * Prints a table on stdout, progress on stderr, and writes bench/results/latest.json; a full run of every
 * scenario then regenerates the tables of README.md and docs/performance.md from it (bench/report-docs.ts).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '@gatehouse/testkit';
import { type BenchResult, writeDocs } from './report-docs.ts';
import { argon2 } from './scenarios/argon2.ts';
import { clientCredentials } from './scenarios/client-credentials.ts';
import { concurrency } from './scenarios/concurrency.ts';
import { costPerOperation } from './scenarios/cost-per-operation.ts';
import { demoApi } from './scenarios/demo-api.ts';
import { dpop } from './scenarios/dpop.ts';
import { introspection } from './scenarios/introspection.ts';
import { startRedisMemory } from './scenarios/redis-memory.ts';
import { refresh } from './scenarios/refresh.ts';
import { sdk } from './scenarios/sdk.ts';
import { signInRate } from './scenarios/sign-in-rate.ts';
import { BENCH_DIR } from './support/child.ts';
import type { BenchContext } from './support/context.ts';
import type { Figure } from './support/figure.ts';
import { startGatehouseProcess } from './support/gatehouse-process.ts';
import { formatTable, machine } from './support/report.ts';

interface Scenario {
  readonly id: number;
  readonly title: string;
  run(ctx: BenchContext): Promise<Figure[]>;
}

/** A scenario that mostly waits (for TTLs): started before the others, collected after them. */
interface BackgroundScenario {
  readonly id: number;
  readonly title: string;
  start(ctx: BenchContext): Promise<{ finish(): Promise<Figure[]> }>;
}

const SCENARIOS: Scenario[] = [
  { id: 1, title: 'client credentials', run: clientCredentials },
  { id: 2, title: 'refresh (rotation)', run: refresh },
  { id: 3, title: 'introspection', run: introspection },
  { id: 4, title: 'demo API / verifier', run: demoApi },
  { id: 5, title: 'password hashing', run: argon2 },
  { id: 6, title: 'SDK', run: sdk },
  { id: 8, title: 'DPoP at the demo API', run: dpop },
  { id: 9, title: 'cost per operation', run: costPerOperation },
  { id: 10, title: 'latency by concurrency', run: concurrency },
  { id: 11, title: 'sign-in rate', run: signInRate },
];
const BACKGROUND: BackgroundScenario[] = [{ id: 7, title: 'Redis memory', start: startRedisMemory }];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',')
  .map(Number);
const started = Date.now();
const log = (message: string) =>
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);

const tmpDir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-'));
const redis = await startRedis();
const figures: Figure[] = [];
let gatehouse: Awaited<ReturnType<typeof startGatehouseProcess>> | undefined;
try {
  gatehouse = await startGatehouseProcess({ redisUrl: redis.url });
  const ctx: BenchContext = {
    quick,
    cpus: machine().cpus,
    // Quick mode (a smoke run under 2 minutes): one interleaved round of 1 s per side; every figure is produced.
    roundSeconds: quick ? 1 : 4,
    rounds: quick ? 1 : 7,
    connections: 16,
    redisUrl: redis.url,
    gatehouse,
    tmpDir,
    log,
  };
  // One broken scenario must not hide the others' figures.
  const attempt = async <T>(scenario: { id: number; title: string }, body: () => Promise<T>) => {
    try {
      return await body();
    } catch (err) {
      const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
      log(`scenario ${scenario.id} failed: ${err instanceof Error ? err.stack : message}`);
      figures.push({
        scenario: `${scenario.id} ${scenario.title}`,
        name: 'error',
        value: Number.NaN,
        unit: '',
        pass: false,
        note: message,
      });
      return undefined;
    }
  };
  const selected = <T extends { id: number }>(list: T[]) => list.filter((s) => !only || only.includes(s.id));
  const pending: { finish(): Promise<Figure[]> }[] = [];
  for (const scenario of selected(BACKGROUND)) {
    log(`scenario ${scenario.id}: ${scenario.title} (runs on while the others are measured)`);
    const started = await attempt(scenario, () => scenario.start(ctx));
    if (started) pending.push(started);
  }
  for (const scenario of selected(SCENARIOS)) {
    log(`scenario ${scenario.id}: ${scenario.title}`);
    figures.push(...((await attempt(scenario, () => scenario.run(ctx))) ?? []));
  }
  for (const [i, background] of pending.entries()) {
    figures.push(...((await attempt(selected(BACKGROUND)[i]!, () => background.finish())) ?? []));
  }
} finally {
  await gatehouse?.stop();
  await redis.cleanup();
  await rm(tmpDir, { recursive: true, force: true });
}

const result: BenchResult = {
  mode: quick ? 'quick' : 'full',
  machine: machine(),
  seconds: Math.round((Date.now() - started) / 1000),
  ...(only ? { only } : {}),
  figures,
};
process.stdout.write(`${formatTable(figures)}\n`);
await mkdir(join(BENCH_DIR, 'results'), { recursive: true });
await writeFile(join(BENCH_DIR, 'results/latest.json'), `${JSON.stringify(result, null, 2)}\n`);
log(`wrote bench/results/latest.json (${result.seconds}s)`);
if (!quick && !only)
  log(`regenerated ${(await writeDocs(result)).join(', ') || 'nothing (docs already match)'}`);
process.exitCode = figures.some((f) => f.name === 'error') ? 1 : 0;
