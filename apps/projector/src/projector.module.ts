import { type DynamicModule, Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { type Kysely, sql } from 'kysely';
import { NatsHolder } from '@keys/bus';
import { openEventStore } from '@keys/event-store';
import { ObservabilityModule, ReadinessRegistry } from '@keys/platform';
import type { ReadModelDatabase } from '@keys/read-models';
import { KeyEventsConsumer } from './key-events.consumer';
import { PROJECTOR_CONFIG, type ProjectorConfig } from './projector.config';

export const PROJECTOR_DB = Symbol('PROJECTOR_DB');

/** Builds the keys and security_log read models from the key events. */
@Module({
  imports: [ObservabilityModule],
  providers: [
    {
      provide: PROJECTOR_DB,
      inject: [PROJECTOR_CONFIG],
      useFactory: async (config: ProjectorConfig) => (await openEventStore(config.databaseUrl, { max: 5 })) as unknown as Kysely<ReadModelDatabase>,
    },
    {
      provide: NatsHolder,
      inject: [PROJECTOR_CONFIG],
      useFactory: (config: ProjectorConfig) =>
        new NatsHolder({ url: config.natsUrl, user: config.natsUser, password: config.natsPassword, credsFile: config.natsCreds }, 'keys-projector'),
    },
    {
      provide: KeyEventsConsumer,
      inject: [PROJECTOR_DB, NatsHolder, PROJECTOR_CONFIG],
      useFactory: (db: Kysely<ReadModelDatabase>, nats: NatsHolder, config: ProjectorConfig) =>
        new KeyEventsConsumer(db, nats, {
          streamName: config.streamName,
          subjectPrefix: config.subjectPrefix,
          consumerName: config.consumerName,
          batchSize: config.batchSize,
          idleCatchUpMs: config.idleCatchUpMs,
          ackWaitSeconds: config.ackWaitSeconds,
        }),
    },
  ],
  exports: [KeyEventsConsumer, PROJECTOR_DB],
})
export class ProjectorModule implements OnApplicationBootstrap, OnApplicationShutdown {
  static forRoot(config: ProjectorConfig): DynamicModule {
    return { module: ProjectorModule, providers: [{ provide: PROJECTOR_CONFIG, useValue: config }] };
  }

  constructor(
    @Inject(PROJECTOR_DB) private readonly db: Kysely<ReadModelDatabase>,
    private readonly nats: NatsHolder,
    private readonly consumer: KeyEventsConsumer,
    private readonly readiness: ReadinessRegistry,
  ) {}

  onApplicationBootstrap(): void {
    this.readiness.register('postgres', async () => {
      await sql`select 1`.execute(this.db);
      return { ok: true };
    });
    this.readiness.register('nats', () => ({ ok: this.nats.connected }));
    // Lag is reported, not judged: a projector catching up is still serving what it has.
    this.readiness.register('projection', async () => ({ ok: true, details: { ...(await this.consumer.status()) } }));
    this.consumer.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
    await this.nats.close();
    await this.db.destroy();
  }
}
