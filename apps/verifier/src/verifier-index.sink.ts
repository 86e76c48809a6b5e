import type { Kysely } from 'kysely';
import type { FollowerSink } from '@keys/event-follower';
import { type Database, headPosition } from '@keys/event-store';
import { counter, gauge } from '@keys/platform';
import { collectGarbage } from './collect-garbage';
import { decodeIndexRows, readIndexBatch } from './key-events.reader';
import type { VerifierIndex } from './verifier-index';

const appliedFromStore = counter({ name: 'keys_verifier_events_applied_total', help: 'Events applied to the verifier index' });
const indexSize = gauge({ name: 'keys_verifier_index_size', help: 'Keys in the verifier index (deleted ones included)' });

/** Catch-up reads asked for at once: the verifier's pool has three connections, used for nothing else. */
const READS_IN_FLIGHT = 3;
/** Events read from the store between full garbage collections during a long catch-up (see collectGarbage). */
const EVENTS_PER_COLLECTION = 100_000;

/**
 * Feeds the verifier's memory index from the event store (the EventFollower decides when): position ranges read
 * ahead, decoded from one text per batch, applied in order by `VerifierIndex.applyRow`, which applies only the
 * next position and so never applies an event twice or skips one.
 */
export class VerifierIndexSink implements FollowerSink {
  constructor(
    private readonly index: VerifierIndex,
    private readonly db: Kysely<Database>,
    private readonly batchSize: number,
  ) {}

  get position(): number {
    return this.index.position;
  }

  async readToHead(): Promise<{ head: number }> {
    const limit = this.batchSize;
    // Positions are dense (1, 2, 3, … with no holes), so batches are position ranges and the next ones can be
    // asked for before this one arrives: Postgres (on its own cores) produces them while this one is folded.
    const ahead: Promise<string>[] = [];
    let after = this.index.position;
    let head = after;
    const readAhead = () => {
      const read = readIndexBatch(this.db, after, limit);
      read.catch(() => undefined); // awaited below; a failure surfaces there, not as an unhandled rejection
      ahead.push(read);
      after += limit;
    };
    readAhead();
    let first = true;
    let sinceCollection = 0;
    while (ahead.length > 0) {
      const text = await (ahead.shift() as Promise<string>);
      let applied = 0;
      const batch = decodeIndexRows(text, (row) => {
        const outcome = this.index.applyRow(row);
        if (outcome === 'applied') applied++;
        else if (outcome === 'gap') throw new Error(`event store gap after position ${this.index.position} (next read ${row.position})`);
      });
      if (applied > 0) appliedFromStore.inc(applied);
      if (batch.last > head) head = batch.last;
      indexSize.set(this.index.size);
      sinceCollection += batch.rows;
      if (sinceCollection >= EVENTS_PER_COLLECTION) {
        sinceCollection = 0;
        collectGarbage();
      }
      if (batch.rows === limit) {
        while (ahead.length < READS_IN_FLIGHT) readAhead();
        if (first) {
          // A long catch-up: size the index once for what is left (keys <= events) instead of growing it step by step.
          first = false;
          this.index.reserve((await headPosition(this.db)) - this.index.position);
        }
      } else {
        // The head: a range further on may already hold events committed since, which must not be applied
        // before the ones this read missed. The next read takes them in order.
        ahead.length = 0;
      }
      // Let verification requests and bus messages in between large catch-up batches.
      if (ahead.length > 0) await new Promise((resolve) => setImmediate(resolve));
    }
    return { head };
  }
}
