import type { Kysely } from 'kysely';
import { type ReadModelDatabase, type RebuildProgress, rebuildReadModels } from '@keys/read-models';
import { readCoreConfig } from '@keys/platform';
import { type Output, parseOptions, positiveInt, progress, UsageError } from '../cli';
import { openExistingEventStore } from '../audit/event-store.session';
import { ownerUrlVariable } from '../db/store-readiness';

/**
 * Rebuilds the `keys` and `security_log` read models from the event store into fresh tables and swaps
 * them in atomically, while the projector keeps consuming and HTTP reads keep answering. Progress goes
 * to stderr (a bar on a terminal, a line every few seconds otherwise); the summary to stdout.
 */
export async function rebuildProjections(args: string[], out: Output): Promise<number> {
  const values = parseOptions(args, { 'batch-size': { type: 'string' } });
  const batchSize = positiveInt(values, 'batch-size', 1000);
  if (batchSize === 0) throw new UsageError('--batch-size starts at 1');

  // As the owner: the rebuild creates, renames and drops tables, which the app role may not do.
  const config = readCoreConfig();
  // A store that predates the read models is refused with "run keysctl db migrate": migrating is asked for.
  const db: Kysely<ReadModelDatabase> = await openExistingEventStore(config.databaseOwnerUrl, ownerUrlVariable());
  try {
    const started = Date.now();
    const bar = progress('replaying');
    let phase: RebuildProgress['phase'] = 'replay';
    const result = await rebuildReadModels(db, config.databaseOwnerUrl, {
      batchSize,
      onProgress: (p) => {
        if (p.phase === 'replay') {
          bar.update(p.position, p.target);
          return;
        }
        if (p.phase !== phase) {
          bar.finish();
          phase = p.phase;
          if (p.phase === 'catch-up') out.log(`following the projector: ${p.position} → ${p.target}`);
          if (p.phase === 'swap') out.log(`swapping in the rebuilt tables at position ${p.position}`);
        }
      },
    });
    bar.finish();
    const seconds = (Date.now() - started) / 1000;
    out.result(
      { ...result, seconds },
      `rebuilt read models from ${result.replayedTo} events in ${seconds.toFixed(1)} s: ${result.keys} keys, ${result.logEntries} security-log entries; projector checkpoint ${result.checkpoint}`,
    );
    return 0;
  } finally {
    await db.destroy();
  }
}
