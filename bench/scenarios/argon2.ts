import { join } from 'node:path';
import { BENCH_DIR, runWorker } from '../support/child.ts';
import type { BenchContext } from '../support/context.ts';
import type { Figure } from '../support/figure.ts';
import { round } from '../support/stats.ts';
import type { Argon2Input, Argon2Result } from '../workers/argon2.ts';

const SCENARIO = '5 password hashing';

/** Scenario 5: argon2id hashes/s per core at the parameters `packages/server` uses. */
export async function argon2(ctx: BenchContext): Promise<Figure[]> {
  const result = await runWorker<Argon2Result>(join(BENCH_DIR, 'workers/argon2.ts'), {
    roundMs: ctx.quick ? 1000 : 3000,
    rounds: ctx.quick ? 1 : 3,
  } satisfies Argon2Input);
  const { memoryCost, timeCost, parallelism } = result.parameters;
  return [
    {
      scenario: SCENARIO,
      name: 'argon2id hashes/s per core',
      value: round(result.perCore, 1),
      unit: 'hashes/s',
      ratio: round(result.perCore / 15),
      note: `m=${memoryCost} KiB, t=${timeCost}, p=${parallelism} (@node-rs/argon2); ratio vs Keycloak 15 logins/s per vCPU`,
    },
    {
      scenario: SCENARIO,
      name: `argon2id hashes/s, ${ctx.cpus} in flight`,
      value: round(result.allCores, 1),
      unit: 'hashes/s',
      note: 'whole machine (shared: other work competes)',
    },
  ];
}
