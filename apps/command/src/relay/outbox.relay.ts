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

/**
 * How often, at most, the relay saves its position while it publishes. The save is off the publishing path: a crash
 * or a handover loses at most this much progress, and the next relay publishes those events again, which JetStream's
 * duplicate window drops. Saving after every batch cost a Postgres round trip per batch, a tenth of the statements the
 * store ran at 1,000 events/s (docs/performance.md).
 */
const CHECKPOINT_SAVE_INTERVAL_MS = 100;

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
  /** Position of the last acknowledged event. */
  private position = 0;
  /** Position the checkpoint row holds, as far as this relay knows. */
  private saved = 0;
  private lastSaveAt = 0;
  private saveTimer: NodeJS.Timeout | null = null;
  /** Saves run one after another, each writing the position as it is when it runs. */
  private saving: Promise<void> = Promise.resolve();
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
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    await within(1000, this.saveNow());
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
          this.position = this.saved = await readCheckpoint(this.db, this.checkpointName);
        }
        // Armed before the read, so a commit the read does not see still wakes the next round.
        const next = this.notifications.wait(this.settings.pollIntervalMs);
        // A full batch may have more behind it; a shorter one reached the head as its read saw it.
        if ((await this.drainOnce()) !== 'full') await Promise.race([next, this.stopped]);
      } catch (err) {
        if (!this.running) break;
        this.logger.warn(`relay paused: ${(err as Error).message}`);
        await Promise.race([new Promise((r) => setTimeout(r, 500)), this.stopped]);
        // Re-read: the checkpoint is the truth after a failure.
        if (this.lock.held) this.position = this.saved = await readCheckpoint(this.db, this.checkpointName).catch(() => this.position);
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

  /**
   * Saves the position now, or, when the last save is less than CHECKPOINT_SAVE_INTERVAL_MS old, once it is that old.
   * Not awaited by the publishing loop.
   */
  private saveSoon(): void {
    if (this.position <= this.saved || this.saveTimer) return;
    const wait = this.lastSaveAt + CHECKPOINT_SAVE_INTERVAL_MS - Date.now();
    if (wait <= 0) {
      void this.saveNow();
      return;
    }
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      void this.saveNow();
    }, wait);
  }

  /** Saves the current position if it moved; never throws (a failed save is retried by the next progress). */
  private saveNow(): Promise<void> {
    this.saving = this.saving.then(async () => {
      const position = this.position;
      // After losing the lock the position is no longer this relay's to save.
      if (position <= this.saved || !this.lock.held) return;
      this.lastSaveAt = Date.now();
      try {
        await this.saveCheckpoint(position);
        this.saved = Math.max(this.saved, position);
      } catch (err) {
        this.logger.warn(`cannot save the relay position: ${(err as Error).message}`);
      }
    });
    return this.saving;
  }

  /** Publishes one batch: `empty` when there was nothing to publish, `full` when the batch was as large as allowed. */
  private async drainOnce(): Promise<'empty' | 'short' | 'full'> {
    const batch = await readAllAfter(this.db, this.position, this.settings.batchSize);
    if (batch.length === 0) {
      relayLag.set(0);
      this.oldestUnpublishedAt = null;
      return 'empty';
    }
    this.oldestUnpublishedAt = Date.parse(batch[0].occurredAt);
    // Not connected yet (NATS away since start): wait for it, or for stop.
    if (!(await Promise.race([this.nats.ready().then(() => true), this.stopped.then(() => false)]))) return 'empty';
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
        this.position = last;
        this.saveSoon();
      }
    }
    // A batch short of full reached the head as its read saw it; only after a full one is the head worth a query.
    const full = batch.length >= this.settings.batchSize;
    relayLag.set(full ? Math.max(0, (await headPosition(this.db)) - this.position) : 0);
    return full ? 'full' : 'short';
  }
}
