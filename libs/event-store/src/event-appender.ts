import type { ControlledTransaction, Kysely, Transaction } from 'kysely';
import type { EventEnvelope } from '@keys/domain';
import { type AppendRequest, appendUnderLock, takeAppendLock } from './append';
import type { Database } from './database';
import { EventAppenderClosedError } from './event-store.errors';

export interface AppendOptions {
  /** Runs in the append's transaction (inside its savepoint): its writes commit or roll back with the events. */
  afterAppend?: (trx: Transaction<Database>, envelopes: EventEnvelope[]) => Promise<void>;
}

export interface EventAppenderOptions {
  /** Most requests committed together; defaults to 256. */
  maxBatchSize?: number;
}

interface Pending {
  request: AppendRequest;
  options: AppendOptions | undefined;
  resolve(envelopes: EventEnvelope[]): void;
  reject(error: unknown): void;
}

const SAVEPOINT = 'append_request';

/**
 * Group commit over the serialized append (DESIGN §3.3): requests that arrive while a batch is being
 * written wait for the next one, which then takes the append lock once and commits them all together.
 * Each request runs in its own savepoint, so one request's failure rejects only its own promise.
 */
export class EventAppender {
  private readonly queue: Pending[] = [];
  private readonly maxBatchSize: number;
  private flushing: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly db: Kysely<Database>,
    options: EventAppenderOptions = {},
  ) {
    this.maxBatchSize = options.maxBatchSize ?? 256;
  }

  append(request: AppendRequest, options?: AppendOptions): Promise<EventEnvelope[]> {
    if (this.closed) return Promise.reject(new EventAppenderClosedError());
    return new Promise<EventEnvelope[]>((resolve, reject) => {
      this.queue.push({ request, options, resolve, reject });
      this.startFlushing();
    });
  }

  /** Refuses new requests and waits until every queued one is settled. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing !== null) await this.flushing;
  }

  private startFlushing(): void {
    if (this.flushing !== null) return;
    this.flushing = this.drain().finally(() => {
      this.flushing = null;
      if (this.queue.length > 0) this.startFlushing();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) await this.flushBatch();
  }

  private async flushBatch(): Promise<void> {
    let trx: ControlledTransaction<Database>;
    try {
      trx = await this.db.startTransaction().execute();
    } catch (error) {
      for (const p of this.queue.splice(0, this.maxBatchSize)) p.reject(error);
      return;
    }
    let batch: Pending[] = [];
    const written: Array<{ pending: Pending; envelopes: EventEnvelope[] }> = [];
    try {
      await takeAppendLock(trx);
      // Taken only now: everything that queued while we waited for the lock joins this batch.
      batch = this.queue.splice(0, this.maxBatchSize);
      for (const pending of batch) {
        const sp = await trx.savepoint(SAVEPOINT).execute();
        try {
          const envelopes = await appendUnderLock(sp, pending.request);
          await pending.options?.afterAppend?.(sp, envelopes);
          await sp.releaseSavepoint(SAVEPOINT).execute();
          written.push({ pending, envelopes });
        } catch (error) {
          pending.reject(error);
          // If this fails too the transaction is unusable, and the outer catch fails the whole batch.
          await (await sp.rollbackToSavepoint(SAVEPOINT).execute()).releaseSavepoint(SAVEPOINT).execute();
        }
      }
      await trx.commit().execute();
    } catch (error) {
      await trx.rollback().execute().catch(() => undefined);
      if (batch.length === 0) batch = this.queue.splice(0, this.maxBatchSize);
      // Rejecting an already settled promise is a no-op, so the whole batch can be rejected.
      for (const p of batch) p.reject(error);
      return;
    }
    for (const { pending, envelopes } of written) pending.resolve(envelopes);
  }
}
