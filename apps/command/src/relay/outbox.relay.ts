import { Logger } from '@nestjs/common';
import { type Kysely, sql } from 'kysely';
import { type NatsHolder, encodeEnvelope, eventSubject } from '@keys/bus';
import { type AppendNotifications, type Database, type SessionLock, headPosition, readAllAfter, readCheckpoint, toPublicEnvelope } from '@keys/event-store';
import { counter, gauge, within } from '@keys/platform';

export interface OutboxRelaySettings {
  streamName: string;
  subjectPrefix: string;
  batchSize: number;
  pollIntervalMs: number;
}

const published = counter({ name: 'keys_relay_published_total', help: 'Events the outbox relay published to JetStream' });
const relayLag = gauge({ name: 'keys_relay_lag_events', help: 'Events committed in the store but not yet published' });
/** Relays publishing in this process (one per command app; tests start several): the gauge shows the oldest backlog. */
const publishing = new Set<OutboxRelay>();
gauge({
  name: 'keys_relay_lag_seconds',
  help: 'Age of the oldest event committed in the store but not yet published (0 when none), as of the scrape',
  collect() {
    const now = Date.now();
    let oldest = 0;
    for (const relay of publishing) if (relay.isLeader && relay.oldestUnpublishedAt !== null) oldest = Math.max(oldest, (now - relay.oldestUnpublishedAt) / 1000);
    this.set(oldest);
  },
});

/**
 * The outbox relay (docs/events.md): publishes committed events to JetStream in position order, with
 * Nats-Msg-Id = eventId, and stores how far the acknowledged prefix got. After a crash it resumes from the
 * stored position; anything published twice inside the stream's duplicate window is dropped by JetStream.
 * Only the holder of the relay lock publishes, so several command instances never interleave.
 *
 * A batch is published pipelined (every publish sent, then the acks awaited in order): one at a time, each
 * waiting for its ack, capped the relay at one event per JetStream round trip, and at 1,000 events/s on a
 * busy 2-core machine the projection fell seconds behind (docs/performance.md). One connection delivers the
 * publishes to the server in order, and each carries the expected previous message id, so a lost publish
 * makes the rest of its batch fail instead of landing out of order: the stream keeps strict position order.
 */
export class OutboxRelay {
  private readonly logger = new Logger('relay');
  private running = false;
  private loop: Promise<void> | null = null;
  private position = 0;
  /** occurred_at (ms) of the first event after the relay's position, as last read; null when none is waiting. */
  oldestUnpublishedAt: number | null = null;
  private stopSignal: () => void = () => undefined;
  private stopped: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly nats: NatsHolder,
    private readonly lock: SessionLock,
    private readonly notifications: AppendNotifications,
    private readonly settings: OutboxRelaySettings,
  ) {}

  /** Whether this instance currently holds the relay lock and publishes. */
  get isLeader(): boolean {
    return this.lock.held;
  }

  get checkpointName(): string {
    return `relay:${this.settings.streamName}`;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopped = new Promise((resolve) => (this.stopSignal = resolve));
    this.loop = this.run();
    publishing.add(this);
  }

  /**
   * Stops promptly in any state: a batch in flight ends with its publish timeout at the latest, and whatever was
   * not acknowledged is published again by the next relay (the checkpoint only covers acknowledged events).
   */
  async stop(): Promise<void> {
    this.running = false;
    this.stopSignal();
    await this.loop;
    publishing.delete(this);
    await within(1000, this.lock.release());
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (!this.lock.held) {
          const acquired = await this.lock.tryAcquire(() => this.logger.warn('lost the relay lock'));
          if (!acquired) {
            await Promise.race([this.notifications.wait(1000), this.stopped]);
            continue;
          }
          this.logger.log('holding the relay lock; publishing');
          this.position = await readCheckpoint(this.db, this.checkpointName);
        }
        const moved = await this.drainOnce();
        if (!moved) await Promise.race([this.notifications.wait(this.settings.pollIntervalMs), this.stopped]);
      } catch (err) {
        if (!this.running) break;
        this.logger.warn(`relay paused: ${(err as Error).message}`);
        await Promise.race([new Promise((r) => setTimeout(r, 500)), this.stopped]);
        // Re-read: the checkpoint is the truth after a failure.
        if (this.lock.held) this.position = await readCheckpoint(this.db, this.checkpointName).catch(() => this.position);
      }
    }
  }

  /**
   * Saves how far the acknowledged prefix got without waiting for the disk flush (`synchronous_commit = off` for
   * this transaction only). A database crash can then lose the last few saves, and the relay publishes those events
   * again, and JetStream drops them by Nats-Msg-Id (the stream keeps a 10-minute duplicate window; a crash and
   * recovery take less).
   * Waiting for the flush would put one disk flush per batch on every event's way to the bus.
   */
  private async saveCheckpoint(position: number): Promise<void> {
    // Both statements in one simple-protocol query string (literal values, no parameters), which Postgres runs as
    // one implicit transaction: one round trip, like the plain upsert it replaces.
    await sql`set local synchronous_commit = off;
      insert into checkpoints (name, position, updated_at) values (${sql.lit(this.checkpointName)}, ${sql.lit(position)}, now())
      on conflict (name) do update set position = excluded.position, updated_at = excluded.updated_at`.execute(this.db);
  }

  /** Publishes one batch; false when there was nothing to publish. */
  private async drainOnce(): Promise<boolean> {
    const batch = await readAllAfter(this.db, this.position, this.settings.batchSize);
    if (batch.length === 0) {
      relayLag.set(0);
      this.oldestUnpublishedAt = null;
      return false;
    }
    this.oldestUnpublishedAt = Date.parse(batch[0].occurredAt);
    // Not connected yet (NATS away since start): wait for it, or for stop.
    if (!(await Promise.race([this.nats.ready().then(() => true), this.stopped.then(() => false)]))) return false;
    const js = this.nats.jetstream();
    let last = this.position;
    const acks = batch.map((stored, i) =>
      js.publish(eventSubject(this.settings.subjectPrefix, stored.accountId ?? 0, stored.type), encodeEnvelope(toPublicEnvelope(stored)), {
        msgID: stored.eventId, // Nats-Msg-Id: JetStream drops a re-publish after a crash
        // Each publish is accepted only right after its predecessor, so if one is lost the later ones in
        // flight are refused too and the retry re-publishes them in order (duplicates are checked first).
        expect: i > 0 ? { lastMsgID: batch[i - 1].eventId } : undefined,
        timeout: 2000,
      }),
    );
    // Past the first failure nobody awaits the rest; their outcome no longer matters (the retry re-publishes them).
    for (const ack of acks) ack.catch(() => undefined);
    try {
      for (let i = 0; i < batch.length; i++) {
        await acks[i];
        last = batch[i].position;
        published.inc();
      }
    } finally {
      if (last > this.position) {
        await this.saveCheckpoint(last);
        this.position = last;
      }
    }
    // A batch short of full reached the head as its read saw it; only after a full one is the head worth a query.
    relayLag.set(batch.length < this.settings.batchSize ? 0 : Math.max(0, (await headPosition(this.db)) - this.position));
    return true;
  }
}
