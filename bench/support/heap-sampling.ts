/**
 * Preloaded into a bench server (`node --import bench/support/heap-sampling.ts server.ts`) by
 * `bench/allocations.ts`: the first SIGUSR2 starts V8's sampling heap profiler, the second stops it
 * and writes the profile to `HEAP_SAMPLING_OUT`; each is acknowledged over IPC. Objects the garbage
 * collector has freed stay in the profile: it counts what was allocated, not what is still alive.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

const session = new Session();
session.connect();
let sampling = false;

process.on('SIGUSR2', () => {
  const step = sampling
    ? session.post('HeapProfiler.stopSampling').then(({ profile }) => {
        writeFileSync(process.env.HEAP_SAMPLING_OUT ?? 'heap.json', JSON.stringify(profile));
      })
    : session.post('HeapProfiler.startSampling', {
        samplingInterval: 256,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
  sampling = !sampling;
  void step.then(() => process.send?.('heap-sampling'));
});
