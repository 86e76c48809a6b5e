import type { Kysely } from 'kysely';
import { type Database, readAllFrom, saveCheckpoint, toPublicEnvelope } from '@keys/event-store';
import type { ReplayTarget } from './replay-target';

export const replayCheckpointName = (subject: string): string => `replay:${subject}`;

export interface ReplayOptions {
  /** First and last position to publish, both inclusive. */
  from: number;
  to: number;
  batchSize?: number;
  /** Stops after the event being published; progress up to it is saved. */
  signal?: AbortSignal;
  onBatch?: (done: ReplayTally) => void;
}

export interface ReplayTally {
  /** Events sent in this run (duplicates included). */
  sent: number;
  /** Of those, how many a JetStream target already held. */
  duplicates: number;
  /** Last position delivered, or from - 1 when none was. */
  lastPosition: number;
}

/**
 * Publishes the store's events `from`..`to` in position order with the public envelope, and records the
 * last delivered position under `replay:<subject>` after every batch (and when stopped or failing), once
 * the target has confirmed it. A later run continues from there.
 */
export async function replayEvents(
  db: Kysely<Database>,
  target: ReplayTarget,
  options: ReplayOptions,
): Promise<ReplayTally & { stopped: boolean }> {
  const checkpoint = replayCheckpointName(target.subject);
  const tally: ReplayTally = { sent: 0, duplicates: 0, lastPosition: options.from - 1 };
  let saved = tally.lastPosition;
  const save = async () => {
    const position = tally.lastPosition;
    await target.flush();
    if (position !== saved) {
      await saveCheckpoint(db, checkpoint, position);
      saved = position;
    }
  };
  try {
    for await (const batch of readAllFrom(db, { after: options.from - 1, to: options.to, batchSize: options.batchSize ?? 500 })) {
      for (const stored of batch) {
        if (options.signal?.aborted) {
          await save();
          return { ...tally, stopped: true };
        }
        const outcome = await target.publish(toPublicEnvelope(stored));
        tally.sent += 1;
        if (outcome === 'duplicate') tally.duplicates += 1;
        tally.lastPosition = stored.position;
      }
      await save();
      options.onBatch?.({ ...tally });
    }
  } catch (err) {
    // Keep what the target confirmed so the next run does not start over; a failed flush saves nothing new.
    await save().catch(() => undefined);
    throw err;
  }
  return { ...tally, stopped: options.signal?.aborted === true && tally.lastPosition < options.to };
}
