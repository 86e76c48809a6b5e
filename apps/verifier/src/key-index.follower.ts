import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Kysely } from 'kysely';
import { AckPolicy, ConsumerEvents, DeliverPolicy, type ConsumerMessages, type JsMsg, nanos } from 'nats';
import { type NatsHolder, allEventsSubject, claimedPosition } from '@keys/bus';
import { type AppendNotifications, type Database, headPosition } from '@keys/event-store';
import { ThrottledWarning, counter, gauge } from '@keys/platform';
import type { KeyIndex } from './key-index';
import { collectGarbage } from './collect-garbage';
import { decodeIndexRows, readIndexBatch } from './key-events.reader';

export interface FollowerSettings {
  streamName: string;
  subjectPrefix: string;
  catchUpBatchSize: number;
  storePollIntervalMs: number;
  jetStreamExpiresMs: number;
}

export interface FollowerStatus {
  caughtUp: boolean;
  applied: number;
  /** Highest committed position the event store has shown us. */
  head: number;
  lag: number;
  /**
   * Highest position a bus message announced that the store has not shown yet (0 when none). Only a hint:
   * while the store is unreachable it cannot be checked, so it counts as lag; once the store answers, a
   * claim it does not back is dropped (and counted as unconfirmed).
   */
  announced: number;
  /** Postgres answered the last read. */
  storeFollowing: boolean;
  /** The JetStream consumer is delivering (no missed heartbeats, consumer present). */
  busFollowing: boolean;
}

const eventsApplied = counter({ name: 'keys_verifier_events_applied_total', help: 'Events applied to the verifier index', labelNames: ['source'] });
const lagGauge = gauge({ name: 'keys_verifier_lag_events', help: 'Committed events not yet in the verifier index' });
const indexSize = gauge({ name: 'keys_verifier_index_size', help: 'Keys in the verifier index (deleted ones included)' });

const busMessages = counter({
  name: 'keys_verifier_bus_messages_total',
  help: 'Messages on the events subjects, by outcome: wake (read the store), unreadable (claims no position), unconfirmed (claimed a position the store does not hold)',
  labelNames: ['outcome'],
});

const appliedFromStore = eventsApplied.labels('store');
/** Catch-up reads asked for at once: the verifier's pool has three connections, used for nothing else. */
const READS_IN_FLIGHT = 3;
/** Events read from the store between full garbage collections during a long catch-up (see collectGarbage). */
const EVENTS_PER_COLLECTION = 100_000;

/**
 * Keeps the index equal to the event store, by position (global and gap-free):
 *
 * - The store is complete, so it is the backbone: a catch-up reads everything after the applied position,
 *   then LISTEN/NOTIFY (plus a slow poll as a safety net) triggers the same read at every commit.
 * - JetStream is followed too (an ephemeral consumer, new messages only), as a doorbell: a message says
 *   "there is news up to position P" and triggers the same store read. Its content is never applied: anyone
 *   who manages to publish on the events subjects could otherwise un-revoke a key (a forged event at the next
 *   position would be applied and the real one then skipped as a duplicate). The worst a forged or replayed
 *   message can do is cause one read of the store, which concurrent reads share.
 *
 * One rule applies what the store returns, `KeyIndex.applyRow`: apply position `applied + 1`, skip anything at
 * or below `applied`. So an event is never applied twice and never skipped.
 */
export class KeyIndexFollower {
  private readonly logger = new Logger('verifier-index');
  private running = false;
  private caughtUp = false;
  private head = 0;
  private storeFollowing = false;
  private busFollowing = false;
  /** Highest position announced on the bus and not yet confirmed by a store read. */
  private announced = 0;
  private readonly unconfirmedWarning = new ThrottledWarning(this.logger);
  private readonly unreadableWarning = new ThrottledWarning(this.logger);
  private syncing: Promise<void> | null = null;
  private syncAgain = false;
  private readonly appliedListeners: Array<(position: number) => void> = [];
  private loops: Promise<void>[] = [];
  private messages: ConsumerMessages | null = null;
  private readonly caughtUpOnce: Promise<void>;
  private markCaughtUp!: () => void;

  constructor(
    private readonly index: KeyIndex,
    private readonly db: Kysely<Database>,
    private readonly nats: NatsHolder,
    private readonly notifications: AppendNotifications,
    private readonly settings: FollowerSettings,
  ) {
    this.caughtUpOnce = new Promise((resolve) => (this.markCaughtUp = resolve));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = [this.followBus(), this.followStore()];
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.messages?.close().catch(() => undefined);
    this.markCaughtUp(); // release anyone still waiting for the first catch-up
    await Promise.all(this.loops);
    await this.syncing?.catch(() => undefined);
  }

  /** Called after every store read that applied something, with the position reached. */
  onApplied(listener: (position: number) => void): void {
    this.appliedListeners.push(listener);
  }

  /** Resolves once the index has read the whole store at least once (or the follower stopped). */
  whenCaughtUp(): Promise<void> {
    return this.caughtUpOnce;
  }

  status(): FollowerStatus {
    const applied = this.index.position;
    const head = Math.max(this.head, applied);
    // Unchecked announcements count only while the store cannot answer (it would settle them otherwise).
    const behind = Math.max(head, this.storeFollowing ? 0 : this.announced);
    return {
      caughtUp: this.caughtUp,
      applied,
      head,
      lag: behind - applied,
      announced: this.announced > applied ? this.announced : 0,
      storeFollowing: this.storeFollowing,
      busFollowing: this.busFollowing,
    };
  }

  /** Reads the store until nothing is newer than the index. Concurrent calls share one read loop. */
  sync(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    const run = async () => {
      const before = this.index.position;
      try {
        do {
          this.syncAgain = false;
          await this.readStoreToHead();
        } while (this.syncAgain && this.running);
        this.storeFollowing = true;
        if (this.index.position > before) for (const listener of this.appliedListeners) listener(this.index.position);
      } catch (err) {
        this.storeFollowing = false;
        throw err;
      } finally {
        this.syncing = null;
      }
    };
    this.syncing = run();
    return this.syncing;
  }

  private async readStoreToHead(): Promise<void> {
    const limit = this.settings.catchUpBatchSize;
    // Positions are dense (1, 2, 3, … with no holes), so batches are position ranges and the next ones can be
    // asked for before this one arrives: Postgres (on its own cores) produces them while this one is folded.
    const ahead: Promise<string>[] = [];
    let after = this.index.position;
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
      if (batch.last > 0) this.head = Math.max(this.head, batch.last);
      this.publishGauges();
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
        // before the ones this read missed. The next sync reads them in order.
        ahead.length = 0;
      }
      // Let verification requests and bus messages in between large catch-up batches.
      if (ahead.length > 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private async followStore(): Promise<void> {
    while (this.running) {
      // Armed before the read so that a commit during the read wakes the next round at once.
      const next = this.notifications.wait(this.settings.storePollIntervalMs);
      const wasFollowing = this.storeFollowing;
      try {
        await this.sync();
        if (!this.caughtUp && this.running) {
          this.caughtUp = true;
          this.logger.log(`index caught up: ${this.index.size} keys at position ${this.index.position}`);
          this.markCaughtUp();
        }
      } catch (err) {
        if (wasFollowing || !this.caughtUp) this.logger.warn(`cannot read the event store: ${(err as Error).message}`);
      }
      this.publishGauges();
      await next;
    }
  }

  private async followBus(): Promise<void> {
    while (this.running) {
      let consumerName: string | null = null;
      try {
        const nc = await this.nats.ready();
        if (!this.running) return;
        // A consumer of our own rather than nats.js's ordered consumer: when it breaks we close it and make a
        // new one, and the store fills whatever it missed. (The ordered consumer's internal re-create loop
        // also keeps retrying after the connection is closed.)
        const jsm = await nc.jetstreamManager();
        const info = await jsm.consumers.add(this.settings.streamName, {
          // Named, so the create request carries the name in its subject, where NATS permissions can keep this
          // user away from every other consumer (a nameless create names it in the body, which they cannot see).
          name: `verifier-${randomBytes(8).toString('hex')}`,
          deliver_policy: DeliverPolicy.New,
          ack_policy: AckPolicy.None,
          filter_subject: allEventsSubject(this.settings.subjectPrefix),
          mem_storage: true,
          num_replicas: 1,
          // The server removes it if this process goes away without deleting it.
          inactive_threshold: nanos(60_000),
        });
        consumerName = info.name;
        const consumer = await nc.jetstream().consumers.get(this.settings.streamName, info.name);
        const messages = await consumer.consume({
          expires: this.settings.jetStreamExpiresMs,
          abort_on_missing_resource: true,
          callback: (m) => this.onBusMessage(m),
        });
        this.messages = messages;
        this.busFollowing = true;
        if (!this.running) await messages.close();
        void this.watchConsumer(messages);
        // Events published before this consumer existed are in the store.
        void this.sync().catch(() => undefined);
        await messages.closed();
      } catch (err) {
        if (this.running) this.logger.warn(`JetStream consumer unavailable: ${(err as Error).message}`);
      }
      this.busFollowing = false;
      this.messages = null;
      if (consumerName) void this.deleteConsumer(consumerName);
      if (this.running) await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  private async deleteConsumer(name: string): Promise<void> {
    const nc = this.nats.current;
    if (!nc || nc.isClosed()) return;
    try {
      await (await nc.jetstreamManager()).consumers.delete(this.settings.streamName, name);
    } catch {
      /* already gone, or the inactivity threshold will remove it */
    }
  }

  /** Tracks whether the consumer is delivering; a broken one is closed so followBus makes a new one. */
  private async watchConsumer(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const status of await messages.status()) {
        switch (status.type) {
          case ConsumerEvents.HeartbeatsMissed:
            if (this.busFollowing) this.logger.warn('JetStream consumer missed heartbeats; following the event store meanwhile');
            this.busFollowing = false;
            if (typeof status.data === 'number' && status.data >= 2) await messages.close();
            break;
          case ConsumerEvents.ConsumerNotFound:
          case ConsumerEvents.ConsumerDeleted:
          case ConsumerEvents.StreamNotFound:
          case ConsumerEvents.NoResponders:
            this.logger.warn(`JetStream consumer lost (${status.type}); re-creating it`);
            this.busFollowing = false;
            await messages.close();
            break;
          default:
            break;
        }
      }
    } catch {
      /* the iterator ends with the consumer */
    }
  }

  private onBusMessage(message: JsMsg): void {
    this.busFollowing = true;
    const position = claimedPosition(message.data);
    if (position === null) {
      busMessages.labels('unreadable').inc();
      this.unreadableWarning.warn(`ignored a message on ${message.subject} that claims no event position`);
      return;
    }
    busMessages.labels('wake').inc();
    if (position <= this.index.position) return;
    if (position > this.announced) this.announced = position;
    void this.sync()
      .then(() => this.settleAnnouncement(position))
      .catch(() => undefined);
    this.publishGauges();
  }

  /**
   * After a store read that started after the announcement arrived: the relay publishes only committed
   * events, so a position the store does not hold by now was never written by us.
   */
  private settleAnnouncement(position: number): void {
    if (!this.storeFollowing) return;
    if (position > this.head) {
      busMessages.labels('unconfirmed').inc();
      this.unconfirmedWarning.warn(`a message on the events subjects announced position ${position}, which the event store does not hold (store head ${this.head}); ignored`);
    }
    if (this.announced <= Math.max(position, this.head)) this.announced = 0;
    this.publishGauges();
  }

  private publishGauges(): void {
    const { lag } = this.status();
    lagGauge.set(lag);
    indexSize.set(this.index.size);
  }
}
