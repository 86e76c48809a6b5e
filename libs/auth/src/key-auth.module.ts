import { type DynamicModule, type FactoryProvider, Inject, Module, type ModuleMetadata, type OnApplicationShutdown } from '@nestjs/common';
import { KeyAuthConnection } from './key-auth.connection';
import { KeyAuthGuard } from './key-auth.guard';
import { KEY_VERIFIER } from './key-verifier';
import type { NatsSettings } from './nats-connection';
import { NatsKeyVerifier, type NatsKeyVerifierOptions } from './nats-key.verifier';

export interface KeyAuthModuleOptions extends NatsKeyVerifierOptions {
  nats: NatsSettings;
  /** NATS connection name, shown in the server's monitoring (default `keys-auth`). */
  connectionName?: string;
}

export interface KeyAuthModuleAsyncOptions {
  imports?: ModuleMetadata['imports'];
  inject?: FactoryProvider['inject'];
  useFactory: (...args: any[]) => KeyAuthModuleOptions | Promise<KeyAuthModuleOptions>;
}

export const KEY_AUTH_OPTIONS = Symbol('KEY_AUTH_OPTIONS');
const AUTH_NATS = Symbol('KEY_AUTH_NATS');

/**
 * Wires KeyAuthGuard to the NATS verifier for any NestJS service: its own NATS connection (connects in the
 * background and keeps reconnecting), KEY_VERIFIER and the guard, available to every module (global).
 */
@Module({})
export class KeyAuthModule implements OnApplicationShutdown {
  static forRoot(options: KeyAuthModuleOptions): DynamicModule {
    return KeyAuthModule.build([{ provide: KEY_AUTH_OPTIONS, useValue: options }], []);
  }

  /** Options from other providers, e.g. `{ imports: [ConfigModule], inject: [ConfigService], useFactory: (c) => ... }`. */
  static forRootAsync(options: KeyAuthModuleAsyncOptions): DynamicModule {
    return KeyAuthModule.build([{ provide: KEY_AUTH_OPTIONS, inject: options.inject ?? [], useFactory: options.useFactory }], options.imports ?? []);
  }

  /** The module's KeyAuthConnection, e.g. for a readiness check: `@Inject(KeyAuthModule.NATS) nats: KeyAuthConnection`. */
  static readonly NATS = AUTH_NATS;

  private static build(optionsProvider: DynamicModule['providers'] & object, imports: NonNullable<ModuleMetadata['imports']>): DynamicModule {
    return {
      module: KeyAuthModule,
      global: true,
      imports,
      providers: [
        ...optionsProvider,
        {
          provide: AUTH_NATS,
          inject: [KEY_AUTH_OPTIONS],
          useFactory: (options: KeyAuthModuleOptions) => new KeyAuthConnection(options.nats, options.connectionName ?? 'keys-auth'),
        },
        {
          provide: KEY_VERIFIER,
          inject: [AUTH_NATS, KEY_AUTH_OPTIONS],
          // While disconnected, fail at once (503) rather than wait out the timeout.
          useFactory: (nats: KeyAuthConnection, options: KeyAuthModuleOptions) => new NatsKeyVerifier(() => (nats.connected ? nats.current : null), options),
        },
        KeyAuthGuard,
      ],
      exports: [KEY_VERIFIER, KeyAuthGuard, AUTH_NATS],
    };
  }

  constructor(@Inject(AUTH_NATS) private readonly nats: KeyAuthConnection) {}

  async onApplicationShutdown(): Promise<void> {
    await this.nats.close();
  }
}
