import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

// USER_HZ: Linux reports utime/stime in 1/100 s on every mainstream architecture.
const TICKS_PER_SECOND = 100;

/** The CPU seconds (utime + stime) of a /proc `stat` line, of a process or of one of its threads. */
function cpuSecondsOf(stat: string): number {
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** CPU seconds a process (all its threads) has used so far, from /proc/<pid>/stat; undefined elsewhere. */
export async function processCpuSeconds(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat === undefined ? undefined : cpuSecondsOf(stat);
}

/** Where a Node process spends its CPU: the JavaScript thread, libuv's pool (argon2, async crypto, fs), V8's helpers (GC, compilers). */
export interface ThreadCpuSeconds {
  readonly main: number;
  readonly libuvPool: number;
  readonly v8Helpers: number;
  readonly other: number;
}

/**
 * CPU seconds by kind of thread of a Node process so far, from /proc/<pid>/task/<tid>/stat (Linux names libuv's
 * pool threads `libuv-worker` and V8's `V8Worker`/`V8 DefaultWorke…`); undefined elsewhere. Threads that ended
 * meanwhile are not counted, so compare two readings of a process whose pools are already started.
 */
export async function threadCpuSeconds(pid: number | undefined): Promise<ThreadCpuSeconds | undefined> {
  if (pid === undefined) return undefined;
  const tids = await readdir(`/proc/${pid}/task`).catch(() => undefined);
  if (tids === undefined) return undefined;
  const totals = { main: 0, libuvPool: 0, v8Helpers: 0, other: 0 };
  for (const tid of tids) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined) continue;
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    totals[threadKind(pid, tid, name)] += cpuSecondsOf(stat);
  }
  return totals;
}

/** Which kind of Node thread `tid` of `pid` is, by the name Linux gives it. */
function threadKind(pid: number, tid: string, name: string): keyof ThreadCpuSeconds {
  if (tid === String(pid)) return 'main';
  if (name.startsWith('libuv-worker')) return 'libuvPool';
  return name.startsWith('V8') ? 'v8Helpers' : 'other';
}

/** Thread CPU in nanoseconds, by the same kinds as {@link ThreadCpuSeconds}. */
export interface ThreadCpuNanoseconds {
  readonly main: number;
  readonly libuvPool: number;
}

/**
 * CPU nanoseconds so far of a Node process's JavaScript thread and of libuv's pool, from the scheduler's
 * own account (/proc/<pid>/task/<tid>/schedstat, to the nanosecond, where `stat` counts 10 ms ticks):
 * precise enough to charge one request. Synchronous, for a callback that runs between two requests;
 * undefined where /proc has no schedstat.
 */
export function threadCpuNanosecondsSync(pid: number | undefined): ThreadCpuNanoseconds | undefined {
  if (pid === undefined) return undefined;
  const task = `/proc/${pid}/task`;
  const nanoseconds = (tid: string) => Number(readFileSync(`${task}/${tid}/schedstat`, 'utf8').split(' ')[0]);
  try {
    const main = nanoseconds(String(pid));
    let libuvPool = 0;
    for (const tid of readdirSync(task)) {
      if (tid === String(pid)) continue;
      try {
        if (threadKind(pid, tid, readFileSync(`${task}/${tid}/comm`, 'utf8')) === 'libuvPool')
          libuvPool += nanoseconds(tid);
      } catch {
        // The thread ended between the listing and the read.
      }
    }
    return { main, libuvPool };
  } catch {
    return undefined;
  }
}
