import { join } from 'node:path';
import { BENCH_DIR, runWorker } from '../support/child.ts';
import type { BenchContext } from '../support/context.ts';
import { type Figure, ratioFigure } from '../support/figure.ts';
import { BENCH_SECRET } from '../support/gatehouse-process.ts';
import { median, round } from '../support/stats.ts';
import type { SignInRateInput, SignInRateResult, StepCost } from '../workers/sign-in-rate.ts';

const SCENARIO = '11 sign-in rate';

/**
 * Scenario 11: whole sign-ins through the pages per second (the Gatehouse process verifies one
 * argon2id password per sign-in) beside argon2id alone at the same parameters, in interleaved rounds:
 * sign-ins that pass the consent page (`prompt=consent`), the issue's flow and the target, and
 * returning users' sign-ins without it, a figure of its own. Then sign-ins one at a time of both kinds,
 * the server's CPU charged to each step (the answer that ends it): what each page costs.
 * Sign-ins run four per CPU: two per CPU would do for the hashing never to wait for a flow's other
 * steps, but the pages' steps then come one at a time, each waking the server, Redis and the
 * client on its own; with four the server is never idle and their round trips share writes (the
 * sign-in rate of the same code rose from 0.45 and 0.49 to 0.56 and 0.56 of the hash rate in
 * alternating runs). Argon2 alone runs one hash per CPU, the machine's hashing capacity.
 */
export async function signInRate(ctx: BenchContext): Promise<Figure[]> {
  const concurrency = 4 * ctx.cpus;
  const ms = ctx.quick ? 1500 : 5000;
  const rounds = ctx.quick ? 1 : 3;
  const stepSignIns = ctx.quick ? 20 : 200;
  ctx.log(`sign-in rate: sign-ins (${concurrency} in flight) vs argon2 alone (${ctx.cpus} in flight)`);
  const result = await runWorker<SignInRateResult>(join(BENCH_DIR, 'workers/sign-in-rate.ts'), {
    issuer: ctx.gatehouse.issuer,
    redisUrl: ctx.redisUrl,
    secret: BENCH_SECRET,
    serverPid: ctx.gatehouse.child.pid,
    accounts: ctx.quick ? 8 : 20,
    concurrency,
    hashConcurrency: ctx.cpus,
    ms,
    warmupMs: ctx.quick ? 500 : 2000,
    rounds,
    stepSignIns,
  } satisfies SignInRateInput);
  const signIns = median(result.signIns.map((r) => r.perSecond));
  const returning = median(result.returningSignIns.map((r) => r.perSecond));
  const returningServerCpuMs = median(result.returningSignIns.map((r) => r.serverCpuMs ?? Number.NaN));
  const hashes = median(result.hashes.map((r) => r.perSecond));
  const serverCpuMs = median(result.signIns.map((r) => r.serverCpuMs ?? Number.NaN));
  const clientCpuMs = median(result.signIns.map((r) => r.cpuMs));
  const hashCpuMs = median(result.hashes.map((r) => r.cpuMs));
  // Where the server's CPU goes: its JavaScript thread (pages, provider, Redis and socket I/O), libuv's pool
  // (the argon2id hash, async crypto), V8's helper threads (garbage collection, compilers).
  const thread = (kind: 'main' | 'libuvPool' | 'v8Helpers') =>
    round(median(result.signIns.map((r) => r.serverThreadsMs?.[kind] ?? Number.NaN)), 1);
  const threads = result.signIns.every((r) => r.serverThreadsMs)
    ? ` (JavaScript thread ${thread('main')} ms, libuv pool with the hash ${thread('libuvPool')} ms, V8 helpers ${thread('v8Helpers')} ms)`
    : '';
  const { memoryCost, timeCost, parallelism } = result.parameters;
  const rateFigures: Figure[] = [
    ratioFigure(
      {
        scenario: SCENARIO,
        name: 'whole sign-ins/s (authorize → sign-in page → consent → code → token)',
        value: round(signIns, 1),
        unit: 'sign-ins/s',
        note: `vs argon2id alone ${round(hashes, 1)} hashes/s (m=${memoryCost} KiB, t=${timeCost}, p=${parallelism}, ${ctx.cpus} in flight); ${concurrency} sign-ins in flight; median of ${rounds} interleaved rounds of ${ms / 1000} s; CPU per sign-in: server ${round(serverCpuMs, 1)} ms${threads}, the client's pages and token requests ${round(clientCpuMs, 1)} ms, against ${round(hashCpuMs, 1)} ms per hash alone`,
      },
      round(signIns / hashes),
      0.7,
    ),
    {
      // Not the target's flow: what most sign-ins are, once a person has consented.
      scenario: SCENARIO,
      name: 'returning sign-ins/s, consent remembered (authorize → sign-in page → code → token)',
      value: round(returning, 1),
      unit: 'sign-ins/s',
      ratio: round(returning / hashes),
      note: `rounds taking turns with the ones above: the same sign-ins without the consent page (the account's consent for the client is remembered, no prompt=consent); ratio vs argon2id alone; server CPU per sign-in ${round(returningServerCpuMs, 1)} ms`,
    },
    {
      // The same question without the load generator, which shares the cores here: how many sign-ins the
      // server's CPU allows per hash its CPU allows, from the CPU time of each (all the server's threads).
      scenario: SCENARIO,
      name: 'server CPU per sign-in, the hash included, against one hash alone',
      value: round(serverCpuMs, 1),
      unit: 'ms',
      ratio: round(hashCpuMs / serverCpuMs),
      note: `ratio = ${round(hashCpuMs, 1)} ms per hash alone / ${round(serverCpuMs, 1)} ms per sign-in: the sign-in rate over the hash rate on a machine whose load generator runs elsewhere (everything but the hash costs the server ${round(serverCpuMs - hashCpuMs, 1)} ms)`,
    },
  ];
  return [...rateFigures, ...(result.steps ? stepFigures(result.steps, stepSignIns) : [])];
}

/** What each answer of a sign-in with the consent page is, in the order they come. */
const STEP_NAMES: Readonly<Record<string, string>> = {
  authorize: 'the authorization request (303 to the sign-in page)',
  page: 'the sign-in page',
  login: 'email and password (303)',
  resume: 'resume after the sign-in (303 to the consent page)',
  'page again': 'the consent page',
  confirm: 'Allow (303)',
  'resume again': 'resume after consent: the code (303 to the client)',
  token: 'the code exchange',
};

/**
 * The server's CPU per step of a sign-in, one sign-in at a time: where the time around the hash goes
 * (Linux: the scheduler's per-thread account). The JavaScript thread is the figure; libuv's pool (the
 * hash, the provider's signatures) is in the note.
 */
function stepFigures(steps: { consent: StepCost[]; returning: StepCost[] }, count: number): Figure[] {
  const total = (list: StepCost[]) => list.reduce((sum, s) => sum + s.mainMs, 0);
  const figures: Figure[] = steps.consent.map((s) => ({
    scenario: SCENARIO,
    name: `server CPU, one sign-in at a time: ${STEP_NAMES[s.step] ?? s.step}`,
    value: round(s.mainMs, 2),
    unit: 'ms',
    note: `JavaScript thread, from the answer before to this one; libuv's pool ${round(s.poolMs, 2)} ms${s.step === 'login' ? ' (the argon2id hash)' : s.step === 'token' ? " (the access and ID tokens' signatures)" : ''}; mean of ${count} sign-ins with the consent page`,
  }));
  figures.push(
    {
      scenario: SCENARIO,
      name: 'server CPU, one sign-in at a time: every step with the consent page',
      value: round(total(steps.consent), 2),
      unit: 'ms',
      note: `JavaScript thread, ${steps.consent.length} requests; libuv's pool ${round(
        steps.consent.reduce((sum, s) => sum + s.poolMs, 0),
        2,
      )} ms`,
    },
    {
      scenario: SCENARIO,
      name: 'server CPU, one sign-in at a time: every step of a returning user',
      value: round(total(steps.returning), 2),
      unit: 'ms',
      note: `JavaScript thread, ${steps.returning.length} requests (${steps.returning.map((s) => `${s.step} ${round(s.mainMs, 2)}`).join(', ')} ms); libuv's pool ${round(
        steps.returning.reduce((sum, s) => sum + s.poolMs, 0),
        2,
      )} ms`,
    },
  );
  return figures;
}
