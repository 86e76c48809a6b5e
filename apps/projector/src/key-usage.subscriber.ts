import { Logger } from '@nestjs/common';
import type { Kysely } from 'kysely';
import type { Msg, NatsConnection, Subscription } from 'nats';
import { usageSubject } from '@keys/bus';
import { ThrottledWarning, counter } from '@keys/platform';
import { type ReadModelDatabase, parseUsageBatch, recordKeyUsage } from '@keys/read-models';

const batches = counter({
  name: 'keys_usage_batches_total',
  help: 'Usage messages from the verifiers, by outcome (recorded, malformed, dropped while too many wait, failed to write)',
  labelNames: ['outcome'],
});
/** Messages waiting for their write; beyond this they are dropped (telemetry: lastUsedAt only gets older). */
const MAX_WAITING = 1000;

/**
 * Folds the verifiers' usage batches (`<prefix>.usage`, core NATS) into `key_usage`, one statement per
 * message, one write at a time. Not events: nothing here touches the store or the checkpoint.
 */
export class KeyUsageSubscriber {
  private readonly logger = new Logger('usage');
  private readonly failure = new ThrottledWarning(this.logger);
  private subscription: Subscription | null = null;
  private tail: Promise<void> = Promise.resolve();
  private waiting = 0;
  private stopped = false;

  constructor(
    private readonly db: Kysely<ReadModelDatabase>,
    private readonly subjectPrefix: string,
  ) {}

  /** Core subscriptions are renewed by the client after a reconnect. */
  start(nc: NatsConnection): void {
    if (this.subscription || this.stopped) return;
    this.subscription = nc.subscribe(usageSubject(this.subjectPrefix), { callback: (err, msg) => !err && this.onMessage(msg) });
  }

  /** Stops taking messages and lets the waiting writes finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.subscription?.unsubscribe();
    this.subscription = null;
    await this.tail;
  }

  private onMessage(msg: Msg): void {
    const receivedAt = Date.now();
    const batch = parseUsageBatch(msg.data);
    if (!batch) {
      batches.labels('malformed').inc();
      return;
    }
    if (this.waiting >= MAX_WAITING) {
      batches.labels('dropped').inc();
      return;
    }
    this.waiting++;
    this.tail = this.tail.then(async () => {
      try {
        await recordKeyUsage(this.db, batch.batch, receivedAt);
        batches.labels('recorded').inc();
      } catch (error) {
        batches.labels('failed').inc();
        this.failure.warn(`could not record key usage: ${(error as Error).message}`);
      } finally {
        this.waiting--;
      }
    });
  }
}
