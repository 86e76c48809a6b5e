import { Logger } from '@nestjs/common';
import { sql, type Kysely } from 'kysely';
import { AckPolicy, type ConsumerMessages, DeliverPolicy, type JetStreamManager, type JsMsg, nanos } from 'nats';
import { type NatsHolder, allEventsSubject, claimedPosition, ensureKeyStream } from '@keys/bus';
import { PROJECTOR_CHECKPOINT, type ReadModelDatabase, projectFromStore } from '@keys/read-models';
import { ThrottledWarning, counter, gauge } from '@keys/platform';

export interface KeyEventsConsumerSettings {
  streamName: string;
  subjectPrefix: string;
  consumerName: string;
  batchSize: number;
  idleCatchUpMs: number;
  ackWaitSeconds: number;
}

export interface ProjectionStatus {
  checkpoint: number;
  head: number;
  lag: number;
}

const applied = counter({ name: 'keys_projector_events_applied_total', help: 'Events applied to the read models' });
const fetched = counter({ name: 'keys_projector_events_from_store_total', help: 'Events the projector read from the event store (gaps, start-up, idle catch-up)' });
const busMessages = counter({
  name: 'keys_projector_bus_messages_total',
  help: 'Messages on the events subjects, by outcome: wake (read the store), stale (at or below the checkpoint), unreadable (claims no position), unconfirmed (claims a position the store does not hold)',
  labelNames: ['outcome'],
});
const lagGauge = gauge({ name: 'keys_projector_lag_events', help: 'How far the read models are behind the event store head (head - checkpoint)' });
const checkpointGauge = gauge({ name: 'keys_projector_checkpoint', help: 'Last event position reflected in the read models' });

/**
 * Feeds the read models from the event store, woken by a durable JetStream pull consumer. A message is a
 * doorbell ("there are events up to position P"), never a source of content: every batch is read from the
 * store under the checkpoint lock (projectFromStore), so a forged or replayed message on the events subjects
 * cannot change a read model or the security log, nor make a real event be skipped. Messages are acknowledged
 * after the read they triggered has committed, so a crash at any moment leads to a redelivery that at most
 * causes another read. On start, and whenever JetStream has been quiet for idleCatchUpMs while the store is
 * ahead (relay or NATS down), it reads from the store unprompted.
 */
export class KeyEventsConsumer {
  private readonly logger = new Logger('projector');
  private running = false;
  private queue: JsMsg[] = [];
  private wake: (() => void) | null = null;
  private messages: ConsumerMessages | null = null;
  private loops: Promise<void>[] = [];
  private statusTimer: NodeJS.Timeout | null = null;
  private stopSignal: () => void = () => undefined;
  private stopped: Promise<void> = Promise.resolve();
  /** Last checkpoint this process committed or saw; only grows, so anything at or below it is a duplicate. */
  private knownCheckpoint = 0;
  private lastMessageAt = Date.now();
  private readonly unreadableWarning = new ThrottledWarning(this.logger);
  private readonly unconfirmedWarning = new ThrottledWarning(this.logger);

  constructor(
    private readonly db: Kysely<ReadModelDatabase>,
    private readonly nats: NatsHolder,
    private readonly settings: KeyEventsConsumerSettings,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopped = new Promise((resolve) => (this.stopSignal = resolve));
    this.loops = [this.subscribeLoop(), this.projectLoop()];
    this.statusTimer = setInterval(() => void this.status().catch(() => undefined), 1000);
    this.statusTimer.unref();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopSignal();
    if (this.statusTimer) clearInterval(this.statusTimer);
    await this.messages?.close().catch(() => undefined);
    this.wake?.();
    await Promise.all(this.loops);
  }

  /** Checkpoint, store head and the lag between them; also refreshes the metrics. */
  async status(): Promise<ProjectionStatus> {
    const result = await sql<{ checkpoint: number | null; head: number | null }>`
      select (select position from checkpoints where name = ${PROJECTOR_CHECKPOINT}) as checkpoint,
             (select max(position) from events) as head`.execute(this.db);
    const checkpoint = result.rows[0].checkpoint ?? 0;
    const head = result.rows[0].head ?? 0;
    const lag = Math.max(0, head - checkpoint);
    lagGauge.set(lag);
    checkpointGauge.set(checkpoint);
    return { checkpoint, head, lag };
  }

  private async subscribeLoop(): Promise<void> {
    while (this.running) {
      try {
        const nc = await Promise.race([this.nats.ready(), this.stopped.then(() => null)]);
        if (!nc || !this.running) return;
        const jsm = await nc.jetstreamManager();
        await ensureKeyStream(jsm, { streamName: this.settings.streamName, subjectPrefix: this.settings.subjectPrefix });
        await this.ensureConsumer(jsm);
        const consumer = await nc.jetstream().consumers.get(this.settings.streamName, this.settings.consumerName);
        const messages = await consumer.consume({
          max_messages: this.settings.batchSize * 2,
          callback: (msg) => this.enqueue(msg),
        });
        this.messages = messages;
        if (!this.running) await messages.close();
        await messages.closed();
      } catch (err) {
        if (this.running) this.logger.warn(`JetStream consumer paused: ${(err as Error).message}`);
      }
      this.messages = null;
      await this.sleep(1000);
    }
  }

  private async ensureConsumer(jsm: JetStreamManager): Promise<void> {
    const { streamName, consumerName } = this.settings;
    try {
      await jsm.consumers.info(streamName, consumerName);
      return; // an existing consumer is left as the operator configured it
    } catch (err) {
      if (!/not found/i.test(String((err as Error).message))) throw err;
    }
    await jsm.consumers.add(streamName, {
      durable_name: consumerName,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: allEventsSubject(this.settings.subjectPrefix),
      ack_wait: nanos(this.settings.ackWaitSeconds * 1000),
      max_ack_pending: this.settings.batchSize * 10,
    });
  }

  private enqueue(msg: JsMsg): void {
    this.queue.push(msg);
    this.lastMessageAt = Date.now();
    this.wake?.();
  }

  private async projectLoop(): Promise<void> {
    await this.catchUpFromStore();
    while (this.running) {
      if (this.queue.length === 0) {
        const idle = this.settings.idleCatchUpMs;
        await this.waitForMessages(idle > 0 ? idle : 1000);
        if (!this.running) break;
        if (this.queue.length === 0 && idle > 0 && Date.now() - this.lastMessageAt >= idle) await this.catchUpFromStore();
        continue;
      }
      const batch = this.queue.splice(0, this.settings.batchSize);
      try {
        await this.processBatch(batch);
      } catch (err) {
        // Nothing was committed; the messages are tried again (JetStream would also redeliver them).
        this.queue.unshift(...batch);
        this.logger.warn(`projection paused: ${(err as Error).message}`);
        await this.sleep(500);
      }
    }
  }

  private async processBatch(batch: JsMsg[]): Promise<void> {
    let wanted = 0;
    for (const msg of batch) {
      const position = claimedPosition(msg.data);
      if (position === null) {
        busMessages.labels('unreadable').inc();
        this.unreadableWarning.warn(`JetStream message ${msg.seq} on ${msg.subject} claims no event position; ignored`);
      } else if (position <= this.knownCheckpoint) {
        busMessages.labels('stale').inc();
      } else {
        busMessages.labels('wake').inc();
        wanted = Math.max(wanted, position);
      }
    }
    if (wanted > 0) {
      const result = await projectFromStore(this.db, this.settings.batchSize);
      this.knownCheckpoint = Math.max(this.knownCheckpoint, result.checkpoint);
      applied.inc(result.applied);
      fetched.inc(result.fetched);
      // The relay publishes only committed events, so the store holds every position it announced.
      if (wanted > this.knownCheckpoint) {
        busMessages.labels('unconfirmed').inc();
        this.unconfirmedWarning.warn(`a message on the events subjects announced position ${wanted}, which the event store does not hold (checkpoint ${this.knownCheckpoint}); ignored`);
      }
    }
    for (const msg of batch) msg.ack();
  }

  private async catchUpFromStore(stopAt?: number): Promise<void> {
    try {
      if (stopAt === undefined) {
        const { checkpoint, head } = await this.status();
        this.knownCheckpoint = Math.max(this.knownCheckpoint, checkpoint);
        if (head <= checkpoint) return;
      }
      const result = await projectFromStore(this.db, this.settings.batchSize, stopAt);
      this.knownCheckpoint = Math.max(this.knownCheckpoint, result.checkpoint);
      applied.inc(result.applied);
      fetched.inc(result.fetched);
    } catch (err) {
      this.logger.warn(`catch-up from the event store failed: ${(err as Error).message}`);
    }
  }

  private waitForMessages(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const wake = () => done();
      this.wake = wake;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    }).finally(() => {
      this.wake = null;
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      void this.stopped.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
