import { type DynamicModule, Inject, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import { NatsHolder, ensureKeyStream } from '@keys/bus';
import { EventFollower } from '@keys/event-follower';
import { AppendNotifications, openEventStoreWhenReady } from '@keys/event-store';
import { ObservabilityModule, ReadinessRegistry } from '@keys/platform';
import { VerifierIndex } from './verifier-index';
import { VerifierIndexSink } from './verifier-index.sink';
import { ServingMembership } from './serving-membership';
import { VERIFIER_CONFIG, type VerifierConfig } from './verifier.config';
import { VerifyMessageController } from './verify.message.controller';
import { KeyUsage, UsagePublisher } from './key-usage';

const VERIFIER_DB = Symbol('VERIFIER_DB');

/**
 * The verifier's connections to the store, for reads only (the catch-up and the follower share them). A plain pg
 * pool rather than Kysely: the catch-up reads with COPY (key-events.reader.ts), which needs the driver's client.
 * The store is migrated first, by the Kysely pool that every app opens, closed once it has done that.
 */
async function openReadPool(url: string): Promise<Pool> {
  await (await openEventStoreWhenReady(url, { max: 1 })).destroy();
  const pool = new Pool({ connectionString: url, max: 3, connectionTimeoutMillis: 3000 });
  // As in createDatabase: a lost connection fails its reads (the follower retries), it does not crash the process.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** Answers keys.v1.verify from an in-memory key index kept equal to the event store. */
@Module({
  imports: [ObservabilityModule],
  providers: [
    VerifierIndex,
    KeyUsage,
    {
      provide: VERIFIER_DB,
      inject: [VERIFIER_CONFIG],
      useFactory: (config: VerifierConfig) => openReadPool(config.databaseUrl),
    },
    {
      provide: NatsHolder,
      inject: [VERIFIER_CONFIG],
      useFactory: (config: VerifierConfig) =>
        new NatsHolder({ url: config.natsUrl, user: config.natsUser, password: config.natsPassword, credsFile: config.natsCreds }, 'keys-verifier', async (nc) =>
          // The verifier may start before the command; an operator-made stream is left alone.
          ensureKeyStream(await nc.jetstreamManager(), { streamName: config.streamName, subjectPrefix: config.subjectPrefix }).catch(() => undefined),
        ),
    },
    { provide: AppendNotifications, inject: [VERIFIER_CONFIG], useFactory: (config: VerifierConfig) => new AppendNotifications(config.databaseUrl) },
    {
      provide: EventFollower,
      inject: [VerifierIndex, VERIFIER_DB, NatsHolder, AppendNotifications, VERIFIER_CONFIG],
      useFactory: (index: VerifierIndex, db: Pool, nats: NatsHolder, notifications: AppendNotifications, config: VerifierConfig) =>
        new EventFollower(new VerifierIndexSink(index, db, config.catchUpBatchSize), notifications, nats, {
          name: 'verifier',
          streamName: config.streamName,
          subjectPrefix: config.subjectPrefix,
          consumer: { kind: 'ephemeral', namePrefix: 'verifier' },
          storePollIntervalMs: config.storePollIntervalMs,
          jetStreamExpiresMs: config.jetStreamExpiresMs,
        }),
    },
    {
      provide: VerifyMessageController,
      inject: [VerifierIndex, VERIFIER_CONFIG, KeyUsage],
      useFactory: (index: VerifierIndex, config: VerifierConfig, usage: KeyUsage) => new VerifyMessageController(index, config.subjectPrefix, usage),
    },
    {
      provide: ServingMembership,
      inject: [EventFollower, VerifyMessageController, NatsHolder, VERIFIER_CONFIG],
      useFactory: (follower: EventFollower, controller: VerifyMessageController, nats: NatsHolder, config: VerifierConfig) =>
        new ServingMembership(follower, controller, nats, {
          subjectPrefix: config.subjectPrefix,
          heartbeatMs: config.heartbeatMs,
          stallMs: config.stallMs,
          joinGraceMs: config.joinGraceMs,
        }),
    },
    {
      provide: UsagePublisher,
      inject: [KeyUsage, NatsHolder, ServingMembership, VERIFIER_CONFIG],
      useFactory: (usage: KeyUsage, nats: NatsHolder, membership: ServingMembership, config: VerifierConfig) =>
        new UsagePublisher(usage, () => (nats.connected ? nats.current : null), {
          subjectPrefix: config.subjectPrefix,
          instance: membership.instance,
          flushIntervalMs: config.usageFlushIntervalMs,
        }),
    },
  ],
  exports: [VerifierIndex, EventFollower, VerifyMessageController, ServingMembership, UsagePublisher],
})
export class VerifierModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('verifier');
  private stopping = false;

  static forRoot(config: VerifierConfig): DynamicModule {
    return { module: VerifierModule, providers: [{ provide: VERIFIER_CONFIG, useValue: config }] };
  }

  constructor(
    @Inject(VERIFIER_CONFIG) private readonly config: VerifierConfig,
    @Inject(VERIFIER_DB) private readonly db: Pool,
    private readonly nats: NatsHolder,
    private readonly notifications: AppendNotifications,
    private readonly follower: EventFollower,
    private readonly controller: VerifyMessageController,
    private readonly membership: ServingMembership,
    private readonly usage: UsagePublisher,
    private readonly readiness: ReadinessRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.readiness.register('index', () => {
      const status = this.follower.status();
      return { ok: status.caughtUp && status.lag <= this.config.readyMaxLagEvents, details: { ...status } };
    });
    this.readiness.register('nats', () => ({ ok: this.nats.connected && this.membership.serving, details: { instance: this.membership.instance, serving: this.membership.serving } }));
    await this.notifications.start();
    this.follower.start();
    this.usage.start();
    // Join the queue group only once the index holds the whole store: an instance that answered while
    // still loading would call every key NOT_FOUND while its peers know better. From then on the membership
    // decides when this instance answers (ServingMembership).
    void Promise.all([this.follower.whenCaughtUp(), this.nats.ready()])
      .then(([, nc]) => {
        if (!this.stopping) this.membership.start(nc);
      })
      .catch((err) => this.logger.error(`verifier could not start answering: ${(err as Error).message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.membership.stop();
    await this.controller.close();
    // After the last answer, before NATS closes: the uses since the last flush (bounded, 1 s).
    await this.usage.stop();
    await this.follower.stop();
    await this.notifications.close();
    await this.nats.close();
    await this.db.end();
  }
}
