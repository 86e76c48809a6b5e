import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { configureHttpApp, createLoggedHttpApp, listenAndAnnounce } from '@keys/platform';
import { type GatewayConfig, readGatewayConfig } from './gateway.config';
import { GatewayModule } from './gateway.module';

/** Builds the gateway app (used by main and by the end-to-end tests). */
export async function createGatewayApp(config: GatewayConfig, options: { quiet?: boolean } = {}): Promise<INestApplication> {
  const app = await createLoggedHttpApp(GatewayModule.forRoot(config), 'gateway', config.logging, options);
  configureHttpApp(app);
  return app;
}

async function bootstrap(): Promise<void> {
  const config = readGatewayConfig();
  const app = await createGatewayApp(config);
  await listenAndAnnounce(app, 'gateway', config.port, { NATS: config.natsUrl });
}

if (require.main === module) {
  bootstrap().catch((err) => {
    console.error(`gateway failed to start: ${(err as Error).message}`);
    process.exit(1);
  });
}
