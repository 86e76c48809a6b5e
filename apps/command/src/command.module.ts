import { type DynamicModule, Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { sql } from 'kysely';
import { KEY_VERIFIER, KeyAuthGuard } from '@keys/auth';
import { NatsHolder, VerifierPropagation, ensureKeyStream } from '@keys/bus';
import { AppendNotifications, EventAppender, SessionLock, openEventStoreWhenReady } from '@keys/event-store';
import { type CommandDb, KeyCommandService, createKeyEventAppender } from '@keys/key-service';
import { ObservabilityModule, ReadinessRegistry } from '@keys/platform';
import { ProjectionFreshness, ReadModelReader } from '@keys/read-models';
import { BillingKeyUsage } from './auth/billing-key-usage';
import { StoreKeyVerifier } from './auth/store-key.verifier';
import { COMMAND_CONFIG, type CommandConfig } from './command.config';
import { BillingKeyAuthGuard } from './http/billing-key-auth.guard';
import { RateLimitGuard } from './http/rate-limit.guard';
import { VerificationPropagationInterceptor } from './http/verification-propagation.interceptor';
import { CreateBillingKeyHttpController, CreateProxyKeyHttpController } from './create-key/create-key.http.controller';
import { DeleteBillingKeyHttpController, DeleteProxyKeyHttpController } from './delete-key/delete-key.http.controller';
import { ExpirySweep } from './expiry-sweep/expiry.sweep';
import { GetBillingKeyHttpController, GetProxyKeyHttpController } from './get-key/get-key.http.controller';
import { ReadYourWritesInterceptor } from './http/read-your-writes.interceptor';
import { ListBillingKeysHttpController, ListProxyKeysHttpController } from './list-keys/list-keys.http.controller';
import { OutboxRelay } from './relay/outbox.relay';
import { RollBillingKeyHttpController, RollProxyKeyHttpController } from './roll-key/roll-key.http.controller';
import { SecretScanningHttpController } from './secret-scanning/secret-scanning.http.controller';
import { GithubSignatureGuard } from './secret-scanning/secret-scanning.guard';
import { SecurityLogHttpController } from './security-log/security-log.http.controller';
import { UpdateBillingKeyHttpController, UpdateProxyKeyHttpController } from './update-key/update-key.http.controller';

export const COMMAND_DB = Symbol('COMMAND_DB');
const RELAY_LOCK_KEY = 7_362_010_002;

/** HTTP API for key management (docs/api.md), the outbox relay and the expiry sweep. */
@Module({
  imports: [ObservabilityModule],
  // One controller per key type and use case (@KeyRoute binds the type to the route).
  controllers: [
    CreateProxyKeyHttpController,
    CreateBillingKeyHttpController,
    UpdateProxyKeyHttpController,
    UpdateBillingKeyHttpController,
    DeleteProxyKeyHttpController,
    DeleteBillingKeyHttpController,
    RollProxyKeyHttpController,
    RollBillingKeyHttpController,
    ListProxyKeysHttpController,
    ListBillingKeysHttpController,
    GetProxyKeyHttpController,
    GetBillingKeyHttpController,
    SecurityLogHttpController,
    SecretScanningHttpController,
  ],
  providers: [
    KeyAuthGuard,
    BillingKeyAuthGuard,
    RateLimitGuard,
    GithubSignatureGuard,
    ReadYourWritesInterceptor,
    VerificationPropagationInterceptor,
    {
      provide: VerifierPropagation,
      inject: [NatsHolder, COMMAND_CONFIG],
      useFactory: (nats: NatsHolder, config: CommandConfig) =>
        new VerifierPropagation(() => (nats.connected ? nats.current : null), {
          subjectPrefix: config.subjectPrefix,
          timeoutMs: config.verifyPropagationTimeoutMs,
          livenessMs: config.verifierLivenessMs,
        }),
    },
    // Reads come from the projector's read models in the same database (docs/api.md, Read-your-writes).
    { provide: ReadModelReader, inject: [COMMAND_DB], useFactory: (db: CommandDb) => new ReadModelReader(db) },
    { provide: ProjectionFreshness, inject: [COMMAND_DB], useFactory: (db: CommandDb) => new ProjectionFreshness(db) },
    {
      provide: COMMAND_DB,
      inject: [COMMAND_CONFIG],
      useFactory: async (config: CommandConfig) => (await openEventStoreWhenReady(config.databaseUrl, { max: 20, ownerUrl: config.databaseOwnerUrl })),
    },
    {
      provide: NatsHolder,
      inject: [COMMAND_CONFIG],
      useFactory: (config: CommandConfig) =>
        new NatsHolder({ url: config.natsUrl, user: config.natsUser, password: config.natsPassword, credsFile: config.natsCreds }, 'keys-command', async (nc) =>
          ensureKeyStream(await nc.jetstreamManager(), { streamName: config.streamName, subjectPrefix: config.subjectPrefix, replicas: config.streamReplicas }),
        ),
    },
    { provide: EventAppender, inject: [COMMAND_DB], useFactory: (db: CommandDb) => createKeyEventAppender(db) },
    { provide: KeyCommandService, inject: [COMMAND_DB, EventAppender], useFactory: (db: CommandDb, appender: EventAppender) => new KeyCommandService(db, appender) },
    {
      provide: BillingKeyUsage,
      inject: [COMMAND_DB, COMMAND_CONFIG],
      useFactory: (db: CommandDb, config: CommandConfig) => new BillingKeyUsage(db, config.usageFlushIntervalMs),
    },
    {
      // Billing keys are judged from the command's own key_lookup, in batches (StoreKeyVerifier).
      provide: KEY_VERIFIER,
      inject: [COMMAND_DB, BillingKeyUsage],
      useFactory: (db: CommandDb, usage: BillingKeyUsage) => new StoreKeyVerifier(db, (verdict, nowMs) => usage.record(verdict.key.id, nowMs)),
    },
    { provide: AppendNotifications, inject: [COMMAND_CONFIG], useFactory: (config: CommandConfig) => new AppendNotifications(config.databaseUrl) },
    {
      provide: OutboxRelay,
      inject: [COMMAND_DB, NatsHolder, AppendNotifications, COMMAND_CONFIG],
      useFactory: (db: CommandDb, nats: NatsHolder, notifications: AppendNotifications, config: CommandConfig) =>
        new OutboxRelay(db, nats, new SessionLock(config.databaseUrl, RELAY_LOCK_KEY), notifications, {
          streamName: config.streamName,
          subjectPrefix: config.subjectPrefix,
          batchSize: config.relayBatchSize,
          pollIntervalMs: config.relayPollIntervalMs,
        }),
    },
    {
      provide: ExpirySweep,
      inject: [COMMAND_DB, KeyCommandService, COMMAND_CONFIG],
      useFactory: (db: CommandDb, keys: KeyCommandService, config: CommandConfig) => new ExpirySweep(db, keys, config.expirySweepIntervalMs),
    },
  ],
  exports: [KeyCommandService, COMMAND_DB],
})
export class CommandModule implements OnApplicationBootstrap, OnApplicationShutdown {
  static forRoot(config: CommandConfig): DynamicModule {
    return { module: CommandModule, providers: [{ provide: COMMAND_CONFIG, useValue: config }] };
  }

  constructor(
    @Inject(COMMAND_CONFIG) private readonly config: CommandConfig,
    @Inject(COMMAND_DB) private readonly db: CommandDb,
    private readonly nats: NatsHolder,
    private readonly appender: EventAppender,
    private readonly notifications: AppendNotifications,
    private readonly relay: OutboxRelay,
    private readonly sweep: ExpirySweep,
    private readonly readiness: ReadinessRegistry,
    private readonly propagation: VerifierPropagation,
    private readonly usage: BillingKeyUsage,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.readiness.register('postgres', async () => {
      await sql`select 1`.execute(this.db);
      return { ok: true };
    });
    this.readiness.register('nats', () => ({ ok: this.nats.connected }));
    await this.notifications.start();
    void this.nats.ready().then(
      (nc) => this.propagation.attach(nc),
      () => undefined,
    );
    if (this.config.runRelay) this.relay.start();
    if (this.config.runExpirySweep) this.sweep.start();
    this.usage.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.propagation.close();
    await this.sweep.stop();
    await this.usage.stop();
    await this.relay.stop();
    await this.appender.close();
    await this.notifications.close();
    await this.nats.close();
    await this.db.destroy();
  }
}
