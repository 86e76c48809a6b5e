import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { configureHttpApp, createLoggedHttpApp, listenAndAnnounce } from '@keys/platform';
import { type ProjectorConfig, readProjectorConfig } from './projector.config';
import { ProjectorModule } from './projector.module';

/** Builds the projector app (used by main and by the tests): the consumer plus /health, /health/ready, /metrics. */
export async function createProjectorApp(config: ProjectorConfig, options: { quiet?: boolean } = {}): Promise<INestApplication> {
  const app = await createLoggedHttpApp(ProjectorModule.forRoot(config), 'projector', config.logging, { ...options, requestLogging: false });
  configureHttpApp(app);
  return app;
}

async function bootstrap(): Promise<void> {
  const config = readProjectorConfig();
  const app = await createProjectorApp(config);
  await listenAndAnnounce(app, 'projector', config.port, { Postgres: config.databaseUrl, NATS: config.natsUrl });
}

if (require.main === module) {
  bootstrap().catch((err) => {
    console.error(`projector failed to start: ${(err as Error).message}`);
    process.exit(1);
  });
}
