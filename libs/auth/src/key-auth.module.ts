import { type DynamicModule, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { NatsHolder, type NatsSettings } from '@keys/bus';
import { KeyAuthGuard } from './key-auth.guard';
import { KEY_VERIFIER } from './key-verifier';
import { NatsKeyVerifier, type NatsKeyVerifierOptions } from './nats-key.verifier';

export interface KeyAuthModuleOptions extends Omit<NatsKeyVerifierOptions, 'subjectPrefix'> {
  nats: NatsSettings;
  /** `KEYS_SUBJECT_PREFIX` (default `keys.v1`). */
  subjectPrefix: string;
  /** NATS connection name, shown in the server's monitoring. */
  connectionName?: string;
}

const AUTH_NATS = Symbol('AUTH_NATS');

/**
 * Wires KeyAuthGuard to the NATS verifier for any NestJS service: its own NATS connection (connects in the
 * background and keeps reconnecting), KEY_VERIFIER and the guard, available to every module.
 */
@Module({})
export class KeyAuthModule implements OnApplicationShutdown {
  static forRoot(options: KeyAuthModuleOptions): DynamicModule {
    return {
      module: KeyAuthModule,
      global: true,
      providers: [
        { provide: AUTH_NATS, useFactory: () => new NatsHolder(options.nats, options.connectionName ?? 'keys-auth') },
        {
          provide: KEY_VERIFIER,
          inject: [AUTH_NATS],
          // While disconnected, fail at once (503) rather than wait out the timeout.
          useFactory: (nats: NatsHolder) => new NatsKeyVerifier(() => (nats.connected ? nats.current : null), options),
        },
        KeyAuthGuard,
      ],
      exports: [KEY_VERIFIER, KeyAuthGuard, AUTH_NATS],
    };
  }

  /** The module's NATS connection holder, e.g. for a readiness check: `app.get(KeyAuthModule.NATS)`. */
  static readonly NATS = AUTH_NATS;

  constructor(@Inject(AUTH_NATS) private readonly nats: NatsHolder) {}

  async onApplicationShutdown(): Promise<void> {
    await this.nats.close();
  }
}
