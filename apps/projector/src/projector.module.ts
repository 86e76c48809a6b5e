import { type DynamicModule, Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { type Kysely, sql } from 'kysely';
import { NatsHolder } from '@keys/bus';
import { EventFollower } from '@keys/event-follower';
import { AppendNotifications, openEventStoreWhenReady } from '@keys/event-store';
import { ObservabilityModule, ReadinessRegistry } from '@keys/platform';
import type { ReadModelDatabase } from '@keys/read-models';
import { PROJECTOR_CONFIG, type ProjectorConfig } from './projector.config';
import { ReadModelSink } from './read-model.sink';
import { KeyUsageSubscriber } from './key-usage.subscriber';

export const PROJECTOR_DB = Symbol('PROJECTOR_DB');

/** Builds the keys and security_log read models from the key events, and key_usage from the verifiers' usage batches. */
@Module({
  imports: [ObservabilityModule],
  providers: [
    {
      provide: PROJECTOR_DB,
      inject: [PROJECTOR_CONFIG],
      useFactory: async (config: ProjectorConfig) => (await openEventStoreWhenReady(config.databaseUrl, { max: 5 })),
    },
    {
      provide: NatsHolder,
      inject: [PROJECTOR_CONFIG],
      useFactory: (config: ProjectorConfig) =>
        new NatsHolder({ url: config.natsUrl, user: config.natsUser, password: config.natsPassword, credsFile: config.natsCreds }, 'keys-projector'),
    },
    { provide: AppendNotifications, inject: [PROJECTOR_CONFIG], useFactory: (config: ProjectorConfig) => new AppendNotifications(config.databaseUrl) },
    {
      provide: ReadModelSink,
      inject: [PROJECTOR_DB, PROJECTOR_CONFIG],
      useFactory: (db: Kysely<ReadModelDatabase>, config: ProjectorConfig) => new ReadModelSink(db, config.batchSize),
    },
    {
      provide: EventFollower,
      inject: [ReadModelSink, AppendNotifications, NatsHolder, PROJECTOR_CONFIG],
      useFactory: (sink: ReadModelSink, notifications: AppendNotifications, nats: NatsHolder, config: ProjectorConfig) =>
        new EventFollower(sink, notifications, nats, {
          name: 'projector',
          streamName: config.streamName,
          subjectPrefix: config.subjectPrefix,
          consumer: { kind: 'durable', name: config.consumerName, ackWaitSeconds: config.ackWaitSeconds },
          storePollIntervalMs: config.storePollIntervalMs,
          jetStreamExpiresMs: config.jetStreamExpiresMs,
        }),
    },
    {
      provide: KeyUsageSubscriber,
      inject: [PROJECTOR_DB, PROJECTOR_CONFIG],
      useFactory: (db: Kysely<ReadModelDatabase>, config: ProjectorConfig) => new KeyUsageSubscriber(db, config.subjectPrefix),
    },
  ],
  exports: [EventFollower, ReadModelSink, PROJECTOR_DB, KeyUsageSubscriber],
})
export class ProjectorModule implements OnApplicationBootstrap, OnApplicationShutdown {
  static forRoot(config: ProjectorConfig): DynamicModule {
    return { module: ProjectorModule, providers: [{ provide: PROJECTOR_CONFIG, useValue: config }] };
  }

  constructor(
    @Inject(PROJECTOR_DB) private readonly db: Kysely<ReadModelDatabase>,
    private readonly nats: NatsHolder,
    private readonly notifications: AppendNotifications,
    private readonly sink: ReadModelSink,
    private readonly follower: EventFollower,
    private readonly usage: KeyUsageSubscriber,
    private readonly readiness: ReadinessRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.readiness.register('postgres', async () => {
      await sql`select 1`.execute(this.db);
      return { ok: true };
    });
    this.readiness.register('nats', () => ({ ok: this.nats.connected }));
    // Lag is reported, not judged: a projector catching up is still serving what it has.
    this.readiness.register('projection', async () => ({ ok: true, details: { ...(await this.sink.status()) } }));
    await this.notifications.start();
    this.follower.start();
    this.nats.ready().then(
      (nc) => this.usage.start(nc),
      () => undefined, // closed before NATS connected
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.usage.stop();
    await this.follower.stop();
    await this.notifications.close();
    await this.nats.close();
    await this.db.destroy();
  }
}
