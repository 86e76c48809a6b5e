import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { AckPolicy, ConsumerEvents, type ConsumerMessages, DeliverPolicy, type JsMsg, type NatsConnection, nanos } from 'nats';
import { type NatsHolder, allEventsSubject, claimedPosition } from '@keys/bus';
import type { AppendNotifications } from '@keys/event-store';
import { ThrottledWarning, counter, gauge } from '@keys/platform';

/**
 * What a follower feeds: something that can read the event store from where it stands to the head and apply
 * what it read, in position order. Reading and applying are the sink's own (the verifier reads a compact text
 * batch into its memory index, the projector reads envelopes into its read models under a checkpoint lock);
 * when to read is the follower's.
 */
export interface FollowerSink {
  /** Position applied so far. */
  readonly position: number;
  /** Reads the store from `position` to the head and applies it; returns the highest position the store showed. Throws when the store cannot be read. */
  readToHead(): Promise<{ head: number }>;
}

/** The JetStream consumer that rings the bell: named ephemeral ones (one per process) or one durable. */
export type DoorbellConsumer = { kind: 'ephemeral'; namePrefix: string } | { kind: 'durable'; name: string; ackWaitSeconds: number };

export interface EventFollowerSettings {
  /** Label in logs and metrics (`verifier`, `projector`). */
  name: string;
  streamName: string;
  subjectPrefix: string;
  consumer: DoorbellConsumer;
  /** Safety-net poll of the store; NOTIFY and the bus normally wake the follower within milliseconds. */
  storePollIntervalMs: number;
  /** How long a JetStream pull waits; missed heartbeats (half of it) mark the consumer broken. */
  jetStreamExpiresMs: number;
}

export interface FollowerStatus {
  caughtUp: boolean;
  applied: number;
  /** Highest committed position the event store has shown. */
  head: number;
  lag: number;
  /**
   * Highest position a bus message announced that the store has not shown yet (0 when none). Only a hint:
   * while the store is unreachable it cannot be checked, so it counts as lag; once the store answers, a
   * claim it does not back is dropped (and counted as unconfirmed).
   */
  announced: number;
  /** The last store read succeeded. */
  storeFollowing: boolean;
  /** The JetStream consumer is delivering (no missed heartbeats, consumer present). */
  busFollowing: boolean;
}

const lagGauge = gauge({ name: 'keys_follower_lag_events', help: 'Committed events not yet applied, by follower', labelNames: ['follower'] });
const lagSecondsGauge = gauge({
  name: 'keys_follower_lag_seconds',
  help: 'Seconds since the follower last had applied everything committed (0 while caught up), by follower',
  labelNames: ['follower'],
});
const busMessages = counter({
  name: 'keys_follower_bus_messages_total',
  help: 'Messages on the events subjects, by follower and outcome: wake (read the store), stale (already applied), unreadable (claims no position), unconfirmed (claims a position the store does not hold)',
  labelNames: ['follower', 'outcome'],
});

/**
 * Keeps a sink equal to the event store, for the verifier and the projector alike:
 *
 * - The store is the only source of content (global, gap-free positions): a catch-up reads everything after the
 *   sink's position, then LISTEN/NOTIFY (plus a slow poll as a safety net) triggers the same read at every commit.
 * - A JetStream consumer on the events subjects is a doorbell: a message says "there is news up to position P" and
 *   triggers the same read. Its content is never applied, so anyone who manages to publish there can at most cause
 *   a read of the store (which concurrent triggers share), never change what the sink holds or make it skip an event.
 *
 * Reads never overlap: one runs at a time, and a trigger during a read runs one more after it.
 */
export class EventFollower {
  private readonly logger: Logger;
  private readonly unconfirmedWarning: ThrottledWarning;
  private readonly unreadableWarning: ThrottledWarning;
  private running = false;
  private caughtUp = false;
  private head = 0;
  private announced = 0;
  private storeFollowing = false;
  private busFollowing = false;
  private syncing: Promise<void> | null = null;
  private syncAgain = false;
  private loops: Promise<void>[] = [];
  private messages: ConsumerMessages | null = null;
  private readonly appliedListeners: Array<(position: number) => void> = [];
  private readonly caughtUpOnce: Promise<void>;
  private markCaughtUp!: () => void;
  private stopSignal: () => void = () => undefined;
  private stopped: Promise<void> = Promise.resolve();
  /** When the follower was last known to hold everything committed. */
  private currentSince = Date.now();

  constructor(
    private readonly sink: FollowerSink,
    private readonly notifications: AppendNotifications,
    private readonly nats: NatsHolder,
    private readonly settings: EventFollowerSettings,
  ) {
    this.logger = new Logger(`${settings.name}-follower`);
    this.unconfirmedWarning = new ThrottledWarning(this.logger);
    this.unreadableWarning = new ThrottledWarning(this.logger);
    this.caughtUpOnce = new Promise((resolve) => (this.markCaughtUp = resolve));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopped = new Promise((resolve) => (this.stopSignal = resolve));
    this.loops = [this.followBus(), this.followStore()];
  }

  /** Stops following; returns promptly whatever state NATS and Postgres are in. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopSignal();
    await this.messages?.close().catch(() => undefined);
    this.markCaughtUp(); // release anyone still waiting for the first catch-up
    await Promise.all(this.loops);
    await this.syncing?.catch(() => undefined);
  }

  /** Called after every store read that applied something, with the position reached. */
  onApplied(listener: (position: number) => void): void {
    this.appliedListeners.push(listener);
  }

  /** Resolves once the sink has read the whole store at least once (or the follower stopped). */
  whenCaughtUp(): Promise<void> {
    return this.caughtUpOnce;
  }

  status(): FollowerStatus {
    const applied = this.sink.position;
    const head = Math.max(this.head, applied);
    // Unchecked announcements count only while the store cannot answer (it would settle them otherwise).
    const behind = Math.max(head, this.storeFollowing ? 0 : this.announced);
    const lag = behind - applied;
    if (lag === 0) this.currentSince = Date.now();
    lagGauge.labels(this.settings.name).set(lag);
    lagSecondsGauge.labels(this.settings.name).set(lag === 0 ? 0 : (Date.now() - this.currentSince) / 1000);
    return {
      caughtUp: this.caughtUp,
      applied,
      head,
      lag,
      announced: this.announced > applied ? this.announced : 0,
      storeFollowing: this.storeFollowing,
      busFollowing: this.busFollowing,
    };
  }

  /** Reads the store until nothing is newer than the sink. Concurrent calls share one read loop. */
  sync(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    const run = async () => {
      const before = this.sink.position;
      try {
        do {
          this.syncAgain = false;
          const { head } = await this.sink.readToHead();
          if (head > this.head) this.head = head;
        } while (this.syncAgain && this.running);
        this.storeFollowing = true;
        this.status(); // refreshes the lag gauge
        const after = this.sink.position;
        if (after > before) for (const listener of this.appliedListeners) listener(after);
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

  private async followStore(): Promise<void> {
    while (this.running) {
      // Armed before the read so that a commit during the read wakes the next round at once.
      const next = this.notifications.wait(this.settings.storePollIntervalMs);
      const wasFollowing = this.storeFollowing;
      try {
        await this.sync();
        if (!this.caughtUp && this.running) {
          this.caughtUp = true;
          this.logger.log(`caught up with the event store at position ${this.sink.position}`);
          this.markCaughtUp();
        }
      } catch (err) {
        if (wasFollowing || !this.caughtUp) this.logger.warn(`cannot read the event store: ${(err as Error).message}`);
      }
      await Promise.race([next, this.stopped]);
    }
  }

  private async followBus(): Promise<void> {
    while (this.running) {
      let nc: NatsConnection | null = null;
      let consumerName: string | null = null;
      try {
        nc = await Promise.race([this.nats.ready(), this.stopped.then(() => null)]);
        if (!nc || !this.running) return;
        consumerName = await this.ensureConsumer(nc);
        const consumer = await nc.jetstream().consumers.get(this.settings.streamName, consumerName);
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
      if (nc && consumerName && this.settings.consumer.kind === 'ephemeral') void this.deleteConsumer(nc, consumerName);
      if (this.running) await Promise.race([new Promise((resolve) => setTimeout(resolve, 250)), this.stopped]);
    }
  }

  private async ensureConsumer(nc: NatsConnection): Promise<string> {
    const jsm = await nc.jetstreamManager();
    const { consumer, streamName } = this.settings;
    const filter_subject = allEventsSubject(this.settings.subjectPrefix);
    if (consumer.kind === 'ephemeral') {
      const info = await jsm.consumers.add(streamName, {
        // Named, so the create request carries the name in its subject, where NATS permissions can keep this
        // user away from every other consumer (a nameless create names it in the body, which they cannot see).
        name: `${consumer.namePrefix}-${randomBytes(8).toString('hex')}`,
        deliver_policy: DeliverPolicy.New,
        ack_policy: AckPolicy.None,
        filter_subject,
        mem_storage: true,
        num_replicas: 1,
        // The server removes it if this process goes away without deleting it.
        inactive_threshold: nanos(60_000),
      });
      return info.name;
    }
    try {
      await jsm.consumers.info(streamName, consumer.name);
      return consumer.name; // an existing consumer is left as the operator configured it
    } catch (err) {
      if (!/not found/i.test(String((err as Error).message))) throw err;
    }
    await jsm.consumers.add(streamName, {
      durable_name: consumer.name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      filter_subject,
      ack_wait: nanos(consumer.ackWaitSeconds * 1000),
    });
    return consumer.name;
  }

  private async deleteConsumer(nc: NatsConnection, name: string): Promise<void> {
    if (nc.isClosed()) return;
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
      busMessages.labels(this.settings.name, 'unreadable').inc();
      this.unreadableWarning.warn(`ignored a message on ${message.subject} that claims no event position`);
      this.ack(message);
      return;
    }
    if (position <= this.sink.position) {
      busMessages.labels(this.settings.name, 'stale').inc();
      this.ack(message);
      return;
    }
    busMessages.labels(this.settings.name, 'wake').inc();
    if (position > this.announced) this.announced = position;
    // Acknowledged once the read it triggered has run: a durable consumer redelivers what a crash left behind.
    void this.sync()
      .then(() => {
        this.settleAnnouncement(position);
        this.ack(message);
      })
      .catch(() => undefined);
  }

  /** Only a durable consumer takes acknowledgements (an ephemeral one is created without acks). */
  private ack(message: JsMsg): void {
    if (this.settings.consumer.kind === 'durable') message.ack();
  }

  /**
   * After a store read that started after the announcement arrived: the relay publishes only committed
   * events, so a position the store does not hold by now did not come from our writers.
   */
  private settleAnnouncement(position: number): void {
    if (!this.storeFollowing) return;
    if (position > Math.max(this.head, this.sink.position)) {
      busMessages.labels(this.settings.name, 'unconfirmed').inc();
      this.unconfirmedWarning.warn(`a message on the events subjects announced position ${position}, which the event store does not hold (store head ${this.head}); ignored`);
    }
    if (this.announced <= Math.max(position, this.head)) this.announced = 0;
  }
}
