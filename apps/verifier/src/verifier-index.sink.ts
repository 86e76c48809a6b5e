import type { Pool, PoolClient } from 'pg';
import type { FollowerSink } from '@keys/event-follower';
import { counter, gauge } from '@keys/platform';
import { type IndexBatch, IndexBatchReader, decodeIndexRows, readHeadPosition } from './key-events.reader';
import type { VerifierIndex } from './verifier-index';

const appliedFromStore = counter({ name: 'keys_verifier_events_applied_total', help: 'Events applied to the verifier index' });
const indexSize = gauge({ name: 'keys_verifier_index_size', help: 'Keys in the verifier index (deleted ones included)' });

/**
 * Reads asked for at once, on the one connection a catch-up uses (IndexBatchReader sends each the moment the one
 * before completes, so Postgres never waits for this process to fold a batch). One connection rather than one
 * per read: each new Postgres backend pays again for touching shared buffers the first time, which made a
 * million-event catch-up on three connections cost Postgres ~1.5 s more CPU than on one, on the same two cores.
 */
const READS_IN_FLIGHT = 3;

/**
 * Feeds the verifier's memory index from the event store (the EventFollower decides when): position ranges read
 * ahead on one connection, decoded from one binary COPY per batch, applied in order by `VerifierIndex.applyRow`, which applies only the
 * next position and so never applies an event twice or skips one.
 */
export class VerifierIndexSink implements FollowerSink {
  /** Buffers of batches already folded, for the next reads to fill (see copyOut in key-events.reader). */
  private readonly spare: Buffer[] = [];

  constructor(
    private readonly index: VerifierIndex,
    private readonly pool: Pool,
    private readonly batchSize: number,
  ) {}

  get position(): number {
    return this.index.position;
  }

  async readToHead(): Promise<{ head: number }> {
    const client = await this.pool.connect();
    const dropped: Promise<IndexBatch>[] = [];
    try {
      const head = await this.readWith(client, dropped);
      // Reads beyond the head that were dropped run on this connection all the same: done before it goes back.
      await Promise.allSettled(dropped);
      client.release();
      return { head };
    } catch (err) {
      // The connection may be broken, or still busy with dropped reads: not worth keeping.
      client.release(err as Error);
      throw err;
    }
  }

  private async readWith(client: PoolClient, dropped: Promise<IndexBatch>[]): Promise<number> {
    const reader = new IndexBatchReader(client);
    const limit = this.batchSize;
    const ahead: Promise<IndexBatch>[] = [];
    // Positions are dense (1, 2, 3, … with no holes), so batches are position ranges and the next ones can be
    // asked for before this one arrives: Postgres (on its own core) produces them while this one is folded.
    let after = this.index.position;
    let head = after;
    const readAhead = () => {
      const read = reader.read(after, limit, this.spare.pop());
      read.catch(() => undefined); // awaited below; a failure surfaces there, not as an unhandled rejection
      ahead.push(read);
      after += limit;
    };
    readAhead();
    let first = true;
    while (ahead.length > 0) {
      const { bytes, room } = await (ahead.shift() as Promise<IndexBatch>);
      let applied = 0;
      const batch = decodeIndexRows(bytes, (row) => {
        const outcome = this.index.applyRow(row);
        if (outcome === 'applied') applied++;
        else if (outcome === 'gap') throw new Error(`event store gap after position ${this.index.position} (next read ${row.position})`);
      });
      // The index copied what it keeps (a failed decode drops the buffer with the exception).
      if (this.spare.length <= READS_IN_FLIGHT) this.spare.push(room);
      if (applied > 0) appliedFromStore.inc(applied);
      if (batch.last > head) head = batch.last;
      indexSize.set(this.index.size);
      if (batch.rows === limit) {
        while (ahead.length < READS_IN_FLIGHT) readAhead();
        if (first) {
          // A long catch-up: size the index once for what is left (keys <= events) instead of growing it step by step.
          // Asked on another connection: this one is busy with the reads.
          first = false;
          this.index.reserve((await readHeadPosition(this.pool)) - this.index.position);
        }
      } else {
        // The head: a range further on may already hold events committed since, which must not be applied
        // before the ones this read missed. The next read takes them in order.
        dropped.push(...ahead.splice(0));
      }
      // Let verification requests and bus messages in between large catch-up batches.
      if (ahead.length > 0) await new Promise((resolve) => setImmediate(resolve));
    }
    return head;
  }
}
