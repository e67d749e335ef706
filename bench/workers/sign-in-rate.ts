import { availableParallelism } from 'node:os';
import { hashPassword, PASSWORD_HASH_PARAMETERS } from '@gatehouse/server/internal/password';
import {
  accountFor,
  signInThroughPages,
  startInteractionDriver,
  TEST_PASSWORD,
} from '@gatehouse/testkit/sign-in';
import { workerMain } from '../support/child.ts';

export type SignInRateInput =
  /** Creates the accounts `sign-in-rate-<i>` (once, before the measured rounds). */
  | {
      readonly mode: 'accounts';
      readonly issuer: string;
      readonly redisUrl: string;
      readonly secret: string;
      readonly accounts: number;
    }
  /** Whole sign-ins through the pages, `concurrency` at a time, for `ms`. */
  | {
      readonly mode: 'sign-ins';
      readonly issuer: string;
      readonly accounts: number;
      readonly concurrency: number;
      readonly ms: number;
    }
  /** argon2id hashes at the server's parameters, `concurrency` at a time, for `ms`. */
  | { readonly mode: 'argon2'; readonly concurrency: number; readonly ms: number };

export interface SignInRateResult {
  readonly perSecond: number;
  readonly count: number;
  /** CPU milliseconds of this worker per operation (all threads). */
  readonly cpuMsPerOp: number;
  readonly parameters: { memoryCost: number; timeCost: number; parallelism: number };
  readonly cpus: number;
}

const accountName = (i: number) => `sign-in-rate-${i}`;

/** Runs `op` `concurrency` at a time until `ms` have passed; completions per second (in-flight ones included). */
async function rate(
  concurrency: number,
  ms: number,
  op: (i: number) => Promise<void>,
): Promise<{ perSecond: number; count: number; cpuMsPerOp: number }> {
  const cpu = process.cpuUsage();
  let count = 0;
  let started = 0;
  const begin = performance.now();
  const end = begin + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await op(started++);
        count++;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return {
    perSecond: count / ((performance.now() - begin) / 1000),
    count,
    cpuMsPerOp: (used.user + used.system) / 1000 / Math.max(1, count),
  };
}

/**
 * Scenario 11: the whole sign-in (authorize → sign-in page → password → consent → code → token, as
 * `signInThroughPages` walks it, no shortcut) per second, and argon2id alone at the server's parameters.
 */
workerMain<SignInRateInput, SignInRateResult>(async (input) => {
  const { memoryCost, timeCost, parallelism } = PASSWORD_HASH_PARAMETERS;
  const base = { parameters: { memoryCost, timeCost, parallelism }, cpus: availableParallelism() };
  if (input.mode === 'accounts') {
    const driver = await startInteractionDriver(input);
    for (let i = 0; i < input.accounts; i++) await accountFor(driver, accountName(i));
    await driver.close();
    return { ...base, perSecond: 0, count: input.accounts, cpuMsPerOp: 0 };
  }
  if (input.mode === 'argon2') {
    const result = await rate(input.concurrency, input.ms, async (i) => {
      await hashPassword(`correct horse battery staple ${i}`);
    });
    return { ...base, ...result };
  }
  const { issuer, accounts } = input;
  const result = await rate(input.concurrency, input.ms, async (i) => {
    const { token, stoppedAt } = await signInThroughPages({
      issuer,
      email: `${accountName(i % accounts)}@reliability.test`,
      password: TEST_PASSWORD,
    });
    if (stoppedAt || token?.status !== 200 || typeof token.body.access_token !== 'string') {
      throw new Error(`sign-in failed: ${JSON.stringify(stoppedAt ?? token?.body)}`);
    }
  });
  return { ...base, ...result };
});
