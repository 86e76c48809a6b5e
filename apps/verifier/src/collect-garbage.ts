import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full garbage collection on demand, or a no-op where the runtime does not allow it.
 *
 * Why: a catch-up turns a million events into ~150 MB of short-lived batch text that V8 promotes (a batch is
 * still being decoded, or already received, when a scavenge runs) and then leaves in the old generation until
 * the heap has grown to several times the ~40 MB that is live: the verifier's peak RSS was ~340 MB for
 * ~85 MB of index. The index itself is off the JS heap, so a full collection only walks that small heap and
 * takes milliseconds; one per ~100,000 events keeps the peak near what is live. Enabled from inside the app
 * (no command-line flag needed), only the catch-up calls it.
 */
export const collectGarbage: () => void = (() => {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : () => undefined;
  } catch {
    return () => undefined;
  }
})();
