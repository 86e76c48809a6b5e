import { type Kysely, sql } from 'kysely';
import { readCheckpoint } from '@keys/event-store';
import { PROJECTOR_CHECKPOINT, type ReadModelDatabase } from './read-model.database';

export interface ProjectionFreshnessOptions {
  /** How long a read waits for the projector before answering with what is there. */
  timeoutMs?: number;
  /** How often the checkpoint is polled while some read is waiting. */
  pollIntervalMs?: number;
}

export interface Freshness {
  /** The position the read had to reflect. */
  required: number;
  /** The projector checkpoint when the read went ahead. */
  checkpoint: number;
  /** False when the timeout passed first: the answer may miss the caller's latest writes. */
  fresh: boolean;
}

interface Waiter {
  target: number;
  resolve: (checkpoint: number) => void;
}

/**
 * Read-your-writes over an asynchronous projection: before a read, find the highest position written for
 * the caller's account (plus any position the client names) and wait until the projector's checkpoint
 * has reached it. One poller serves every waiting read, and only runs while someone waits.
 */
export class ProjectionFreshness {
  private readonly timeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly waiters = new Set<Waiter>();
  private polling = false;
  private closed = false;

  constructor(
    private readonly db: Kysely<ReadModelDatabase>,
    options: ProjectionFreshnessOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.pollIntervalMs = options.pollIntervalMs ?? 10;
  }

  async awaitAccount(accountId: number, minPosition = 0): Promise<Freshness> {
    const result = await sql<{ checkpoint: number | null; written: number | null; head: number | null }>`
      select
        (select position from checkpoints where name = ${PROJECTOR_CHECKPOINT}) as checkpoint,
        (select max(position) from events where account_id = ${accountId}) as written,
        (select position from events order by position desc limit 1) as head`.execute(this.db);
    const { checkpoint, written, head } = result.rows[0];
    // A position the store does not hold yet cannot be what the caller wrote: waiting for it would only hold
    // the request for the whole timeout, so it counts as the head.
    const required = Math.max(written ?? 0, Math.min(minPosition, head ?? 0));
    const current = checkpoint ?? 0;
    if (current >= required) return { required, checkpoint: current, fresh: true };
    const reached = await this.waitFor(required);
    return { required, checkpoint: reached ?? current, fresh: reached !== null };
  }

  close(): void {
    this.closed = true;
    for (const waiter of [...this.waiters]) waiter.resolve(-1);
  }

  /** Resolves with the checkpoint once it reaches `target`, or null after the timeout. */
  private waitFor(target: number): Promise<number | null> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        target,
        resolve: (checkpoint) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(checkpoint >= target ? checkpoint : null);
        },
      };
      const timer = setTimeout(() => waiter.resolve(-1), this.timeoutMs);
      this.waiters.add(waiter);
      if (!this.polling) void this.poll();
    });
  }

  private async poll(): Promise<void> {
    this.polling = true;
    try {
      while (this.waiters.size > 0 && !this.closed) {
        await new Promise((r) => setTimeout(r, this.pollIntervalMs));
        const checkpoint = await readCheckpoint(this.db, PROJECTOR_CHECKPOINT).catch(() => -1);
        for (const waiter of [...this.waiters]) if (checkpoint >= waiter.target) waiter.resolve(checkpoint);
      }
    } finally {
      this.polling = false;
    }
  }
}
