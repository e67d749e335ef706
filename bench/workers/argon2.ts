import { hashPassword, PASSWORD_HASH_PARAMETERS } from '@gatehouse/server/internal/password';
import { workerMain } from '../support/child.ts';
import { median } from '../support/stats.ts';

export interface Argon2Input {
  readonly roundMs: number;
  readonly rounds: number;
}

export interface Argon2Result {
  /** Hashes per second, one at a time (one core). */
  readonly perCore: number;
  /** Hashes per second with one hash in flight per CPU. */
  readonly allCores: number;
  readonly parameters: { memoryCost: number; timeCost: number; parallelism: number };
}

async function hashesPerSecond(inFlight: number, ms: number): Promise<number> {
  let count = 0;
  const started = performance.now();
  const end = started + ms;
  await Promise.all(
    Array.from({ length: inFlight }, async (_, i) => {
      while (performance.now() < end) {
        await hashPassword(`correct horse battery staple ${i}-${count}`);
        count++;
      }
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

/** Scenario 5: argon2id at the server's own parameters (what a password sign-in costs). */
workerMain<Argon2Input, Argon2Result>(async ({ roundMs, rounds }) => {
  const cpus = (await import('node:os')).availableParallelism();
  await hashesPerSecond(1, 300);
  const single: number[] = [];
  const all: number[] = [];
  for (let i = 0; i < rounds; i++) {
    single.push(await hashesPerSecond(1, roundMs));
    all.push(await hashesPerSecond(cpus, roundMs));
  }
  const { memoryCost, timeCost, parallelism } = PASSWORD_HASH_PARAMETERS;
  return {
    perCore: median(single),
    allCores: median(all),
    parameters: { memoryCost, timeCost, parallelism },
  };
});
