import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { configureHttpApp, createLoggedHttpApp, listenAndAnnounce } from '@keys/platform';
import { type VerifierConfig, readVerifierConfig } from './verifier.config';
import { VerifierModule } from './verifier.module';

/** Builds the verifier app: NATS verify responder plus /health, /health/ready and /metrics over HTTP. */
export async function createVerifierApp(config: VerifierConfig, options: { quiet?: boolean } = {}): Promise<INestApplication> {
  const app = await createLoggedHttpApp(VerifierModule.forRoot(config), 'verifier', config.logging, { ...options, requestLogging: false });
  configureHttpApp(app);
  return app;
}

async function bootstrap(): Promise<void> {
  const config = readVerifierConfig();
  const app = await createVerifierApp(config);
  await listenAndAnnounce(app, 'verifier', config.port, { Postgres: config.databaseUrl, NATS: config.natsUrl });
}

if (require.main === module) {
  bootstrap().catch((err) => {
    console.error(`verifier failed to start: ${(err as Error).message}`);
    process.exit(1);
  });
}
