/**
 * Preloaded into a server process (`node --expose-gc --import memory-probe.ts`): on SIGUSR2 it
 * collects garbage and prints one `MEMORY {json}` line with process.memoryUsage(), so a test
 * can read the heap of a process it does not run in. Nothing else in Gatehouse uses SIGUSR2.
 */
process.on('SIGUSR2', () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  process.stderr.write(`MEMORY ${JSON.stringify({ ...process.memoryUsage(), gc: gc !== undefined })}\n`);
});
