import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { configureHttpApp, createLoggedHttpApp, listenAndAnnounce } from '@keys/platform';
import { type CommandConfig, readCommandConfig } from './command.config';
import { CommandModule } from './command.module';
import { serveDashboard } from './dashboard/serve-dashboard';
import { DomainErrorFilter } from './http/domain-error.mapper';
import { setupOpenApi } from './http/openapi';
import { SECRET_SCANNING_BODY_LIMIT, SECRET_SCANNING_PATH } from './secret-scanning/secret-scanning.http.controller';
import { BodyValidationPipe } from './http/validation.pipe';

/** Builds the command app (used by main and by the end-to-end tests). */
export async function createCommandApp(config: CommandConfig, options: { quiet?: boolean } = {}): Promise<INestApplication> {
  const app = await createLoggedHttpApp(CommandModule.forRoot(config), 'command', config.logging, options);
  configureHttpApp(app, { trustProxy: config.trustProxy, signedBodyRoutes: { [SECRET_SCANNING_PATH]: SECRET_SCANNING_BODY_LIMIT } });
  // After configureHttpApp's catch-all filter, so domain refusals reach this one first.
  app.useGlobalFilters(new DomainErrorFilter());
  app.useGlobalPipes(new BodyValidationPipe());
  setupOpenApi(app);
  serveDashboard(app);
  return app;
}

async function bootstrap(): Promise<void> {
  const config = readCommandConfig();
  const app = await createCommandApp(config);
  await listenAndAnnounce(app, 'command', config.port, { Postgres: config.databaseUrl, NATS: config.natsUrl });
}

if (require.main === module) {
  bootstrap().catch((err) => {
    console.error(`command failed to start: ${(err as Error).message}`);
    process.exit(1);
  });
}
