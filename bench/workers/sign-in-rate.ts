import { Agent } from 'node:http';
import { availableParallelism } from 'node:os';
import { hashPassword, PASSWORD_HASH_PARAMETERS } from '@gatehouse/server/internal/password';
import {
  accountFor,
  nodeHttpTransport,
  type PageObserver,
  signInThroughPages,
  startInteractionDriver,
  TEST_PASSWORD,
} from '@gatehouse/testkit/sign-in';
import { workerMain } from '../support/child.ts';
import { benchClientAddress } from '../support/gatehouse-process.ts';
import {
  processCpuSeconds,
  type ThreadCpuSeconds,
  threadCpuNanosecondsSync,
  threadCpuSeconds,
} from '../support/process-cpu.ts';

export interface SignInRateInput {
  readonly issuer: string;
  readonly redisUrl: string;
  readonly secret: string;
  /** The server's pid, for its CPU time per sign-in. */
  readonly serverPid: number | undefined;
  /** Accounts `sign-in-rate-<i>`, created before the measured rounds and signed in round robin. */
  readonly accounts: number;
  /** Sign-ins in flight. */
  readonly concurrency: number;
  /** Hashes in flight for argon2 alone. */
  readonly hashConcurrency: number;
  readonly ms: number;
  readonly warmupMs: number;
  readonly rounds: number;
  /** Sign-ins one at a time, of each kind, whose server CPU is charged step by step. */
  readonly stepSignIns: number;
}

/** The server's CPU between one answer of a sign-in and the next: what that request cost it. */
export interface StepCost {
  /** The step as `signInThroughPages` names it; the second page and resume of a sign-in end in ` again`. */
  readonly step: string;
  /** Milliseconds on the JavaScript thread. */
  readonly mainMs: number;
  /** Milliseconds in libuv's pool (the hash, the provider's WebCrypto signatures). */
  readonly poolMs: number;
}

export interface RoundResult {
  readonly perSecond: number;
  /** CPU milliseconds per operation of this worker (the client side, or the hashing). */
  readonly cpuMs: number;
  /** CPU milliseconds per sign-in of the server process. */
  readonly serverCpuMs?: number;
  /** The same, by kind of thread (Linux): JavaScript, libuv's pool (argon2id, async crypto), V8's helpers. */
  readonly serverThreadsMs?: ThreadCpuSeconds;
}

export interface SignInRateResult {
  /** Sign-ins that pass the consent page (`prompt=consent`), as a first sign-in does: the target's flow. */
  readonly signIns: RoundResult[];
  /** Sign-ins of returning users, whose consent is remembered: no consent page. */
  readonly returningSignIns: RoundResult[];
  readonly hashes: RoundResult[];
  /** Server CPU per step, one sign-in at a time (Linux only): with the consent page and without. */
  readonly steps?: { readonly consent: StepCost[]; readonly returning: StepCost[] };
  readonly parameters: { memoryCost: number; timeCost: number; parallelism: number };
  readonly cpus: number;
}

const accountName = (i: number) => `sign-in-rate-${i}`;

/** Runs `op` `concurrency` at a time until `ms` have passed (in-flight ones finish and count). */
async function rate(concurrency: number, ms: number, op: (i: number) => Promise<void>) {
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
    count,
    perSecond: count / ((performance.now() - begin) / 1000),
    cpuMs: (used.user + used.system) / 1000 / Math.max(1, count),
  };
}

/**
 * Scenario 11 in one process (no process start between rounds): creates the accounts, then takes
 * turns between three kinds of round, one at a time: whole sign-ins through the pages (authorize →
 * sign-in page → password → consent → code → token, as `signInThroughPages` walks them, no shortcut;
 * `prompt=consent`, so that the consent page is in every one), returning users' sign-ins (the same
 * without the consent page, their consent remembered), and argon2id alone at the server's parameters.
 */
workerMain<SignInRateInput, SignInRateResult>(async (input) => {
  const driver = await startInteractionDriver(input);
  for (let i = 0; i < input.accounts; i++) await accountFor(driver, accountName(i));
  await driver.close();

  // Node's http over kept-alive connections: the load generator shares the server's cores, and
  // fetch would cost it several times the CPU per request.
  const transport = nodeHttpTransport(new Agent({ keepAlive: true, maxSockets: input.concurrency }));
  /** One whole sign-in of account `i` (round robin) from `address`; throws unless it ends with an access token. */
  const signIn = async (i: number, address: number, consent: boolean, observe?: PageObserver) => {
    const { token, stoppedAt } = await signInThroughPages({
      issuer: input.issuer,
      email: `${accountName(i % input.accounts)}@reliability.test`,
      password: TEST_PASSWORD,
      forwardedFor: benchClientAddress(address),
      transport,
      // The accounts are signed in round robin and their consent is remembered after the first time;
      // `prompt=consent` shows the sign-in the consent page, as a first sign-in sees it.
      ...(consent ? { prompt: 'consent' as const } : {}),
      ...(observe ? { observe } : {}),
    });
    if (stoppedAt || token?.status !== 200 || typeof token.body.access_token !== 'string') {
      throw new Error(`sign-in failed: ${JSON.stringify(stoppedAt ?? token?.body)}`);
    }
  };
  const signInRound = async (warmup: boolean, consent: boolean): Promise<RoundResult> => {
    const before = await processCpuSeconds(input.serverPid);
    const threadsBefore = await threadCpuSeconds(input.serverPid);
    const result = await rate(input.concurrency, warmup ? input.warmupMs : input.ms, (i) =>
      signIn(i, i, consent),
    );
    const after = await processCpuSeconds(input.serverPid);
    const threadsAfter = await threadCpuSeconds(input.serverPid);
    const perSignIn = (seconds: number) => (seconds * 1000) / Math.max(1, result.count);
    return {
      perSecond: result.perSecond,
      cpuMs: result.cpuMs,
      ...(before !== undefined && after !== undefined ? { serverCpuMs: perSignIn(after - before) } : {}),
      ...(threadsBefore && threadsAfter
        ? {
            serverThreadsMs: {
              main: perSignIn(threadsAfter.main - threadsBefore.main),
              libuvPool: perSignIn(threadsAfter.libuvPool - threadsBefore.libuvPool),
              v8Helpers: perSignIn(threadsAfter.v8Helpers - threadsBefore.v8Helpers),
              other: perSignIn(threadsAfter.other - threadsBefore.other),
            },
          }
        : {}),
    };
  };
  const hashRound = async (warmup: boolean): Promise<RoundResult> => {
    const result = await rate(input.hashConcurrency, warmup ? input.warmupMs : input.ms, async (i) => {
      await hashPassword(`correct horse battery staple ${i}`);
    });
    return { perSecond: result.perSecond, cpuMs: result.cpuMs };
  };
  // Each kind of round in turn, after one unrecorded warm-up of each (as `alternate` does for two).
  const kinds = [
    (warmup: boolean) => signInRound(warmup, true),
    (warmup: boolean) => signInRound(warmup, false),
    hashRound,
  ];
  for (const kind of kinds) await kind(true);
  const out: RoundResult[][] = kinds.map(() => []);
  for (let round = 0; round < input.rounds; round++) {
    for (const [i, kind] of kinds.entries()) out[i]!.push(await kind(false));
  }

  /** `count` sign-ins one after another, the server's CPU charged to the step whose answer ends it. */
  const stepCosts = async (consent: boolean, count: number): Promise<StepCost[] | undefined> => {
    const pid = input.serverPid;
    if (threadCpuNanosecondsSync(pid) === undefined) return undefined;
    const totals = new Map<string, { main: number; pool: number; n: number }>();
    for (let i = 0; i < count; i++) {
      let last = threadCpuNanosecondsSync(pid)!;
      const seen = new Set<string>();
      // Addresses of their own: the rounds above used the first ones this minute.
      await signIn(i, (consent ? 1 : 2) * 1_000_000 + i, consent, (step) => {
        // Reading another process's /proc costs that process nothing.
        const now = threadCpuNanosecondsSync(pid)!;
        const key = seen.has(step) ? `${step} again` : step;
        seen.add(step);
        const total = totals.get(key) ?? { main: 0, pool: 0, n: 0 };
        total.main += now.main - last.main;
        total.pool += now.libuvPool - last.libuvPool;
        total.n++;
        totals.set(key, total);
        last = now;
      });
    }
    return [...totals].map(([step, { main, pool, n }]) => ({
      step,
      mainMs: main / n / 1e6,
      poolMs: pool / n / 1e6,
    }));
  };
  const consentSteps = await stepCosts(true, input.stepSignIns);
  const returningSteps = await stepCosts(false, input.stepSignIns);

  const { memoryCost, timeCost, parallelism } = PASSWORD_HASH_PARAMETERS;
  return {
    signIns: out[0]!,
    returningSignIns: out[1]!,
    hashes: out[2]!,
    ...(consentSteps && returningSteps
      ? { steps: { consent: consentSteps, returning: returningSteps } }
      : {}),
    parameters: { memoryCost, timeCost, parallelism },
    cpus: availableParallelism(),
  };
});
