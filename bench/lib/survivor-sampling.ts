// Preloaded into a server by bench/gc-probe.ts (`--import`): SIGUSR2 starts V8's
// sampling heap profiler counting only objects that outlive a scavenge (what the
// young generation promotes), a second SIGUSR2 writes the profile to HEAP_OUT.
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';

const session = new Session();
session.connect();
let sampling = false;
process.on('SIGUSR2', () => {
  sampling = !sampling;
  void (async () => {
    if (sampling) {
      await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMinorGC: false, includeObjectsCollectedByMajorGC: true } as never);
      return;
    }
    const { profile } = await session.post('HeapProfiler.stopSampling');
    writeFileSync(process.env.HEAP_OUT!, JSON.stringify(profile));
  })();
});
