import { readFile } from 'node:fs/promises';

// USER_HZ: Linux reports utime/stime in 1/100 s on every mainstream architecture.
const TICKS_PER_SECOND = 100;

/** CPU seconds a process (all its threads) has used so far, from /proc/<pid>/stat; undefined elsewhere. */
export async function processCpuSeconds(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}
