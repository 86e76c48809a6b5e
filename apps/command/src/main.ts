import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { configureHttpApp, readEnv } from '@keys/platform';
import { CommandModule } from './command.module';

async function bootstrap(): Promise<void> {
  const port = readEnv.int(process.env, 'PORT', 3000, { min: 0, max: 65535 });
  const app = await NestFactory.create(CommandModule, { bodyParser: false });
  configureHttpApp(app);
  await app.listen(port, '0.0.0.0');
}

bootstrap().catch((err) => {
  console.error(`command failed to start: ${(err as Error).message}`);
  process.exit(1);
});
