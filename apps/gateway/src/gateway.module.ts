import { type DynamicModule, Inject, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { type KeyAuthConnection, KeyAuthModule } from '@keys/auth';
import { ObservabilityModule, ReadinessRegistry } from '@keys/platform';
import type { GatewayConfig } from './gateway.config';
import { ModelsHttpController } from './models.http.controller';
import { WhoamiHttpController } from './whoami.http.controller';

/** Reference /v1/* edge that authenticates proxy keys through the verifier, as an inference service would. */
@Module({})
export class GatewayModule implements OnApplicationBootstrap {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        ObservabilityModule,
        KeyAuthModule.forRoot({
          nats: { url: config.natsUrl, user: config.natsUser, password: config.natsPassword, credsFile: config.natsCreds },
          subjectPrefix: config.subjectPrefix,
          timeoutMs: config.verifyTimeoutMs,
          connectionName: 'keys-gateway',
        }),
      ],
      controllers: [ModelsHttpController, WhoamiHttpController],
    };
  }

  constructor(
    private readonly readiness: ReadinessRegistry,
    @Inject(KeyAuthModule.NATS) private readonly nats: KeyAuthConnection,
  ) {}

  onApplicationBootstrap(): void {
    this.readiness.register('nats', () => ({ ok: this.nats.connected }));
  }
}
