import { openEventStore } from '@keys/event-store';
import { rebuildReadModels } from '@keys/read-models';
import { type BenchResult, round } from './bench-result';
import { keysetScan } from './keyset-scan.baseline';
import type { LargeStore } from './million-events.fixture';

/**
 * rebuild_throughput: events/s of `rebuildReadModels` (the code behind `keysctl projections rebuild`, with its
 * default batch of 1,000: the set-based replay into fresh tables, their indexes, then the locked swap) over the
 * large store, against a raw keyset scan of the same events.
 */
export async function rebuildThroughput(store: LargeStore): Promise<BenchResult> {
  const scan = await keysetScan(store.databaseUrl);
  const db = await openEventStore(store.databaseUrl, { max: 2 });
  try {
    const started = process.hrtime.bigint();
    const result = await rebuildReadModels(db, store.databaseUrl, { batchSize: 1000 });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (result.replayedTo !== store.events || result.keys !== store.keys) {
      throw new Error(`rebuild covered ${result.replayedTo} events and ${result.keys} keys, expected ${store.events} and ${store.keys}`);
    }
    const value = result.replayedTo / seconds;
    const ratio = value / scan.eventsPerSecond;
    return {
      name: 'rebuild_throughput',
      value: round(value),
      unit: 'events/s',
      baseline: round(scan.eventsPerSecond),
      ratio: round(ratio),
      target: 'ratio >= 0.5',
      met: ratio >= 0.5,
      notes: { events: result.replayedTo, rebuild_s: round(seconds), store_generation_s: round(store.generationSeconds) },
    };
  } finally {
    await db.destroy();
  }
}
