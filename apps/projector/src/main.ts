import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { configureHttpApp, readEnv } from '@keys/platform';
import { ProjectorModule } from './projector.module';

async function bootstrap(): Promise<void> {
  const port = readEnv.int(process.env, 'PORT', 3001, { min: 0, max: 65535 });
  const app = await NestFactory.create(ProjectorModule, { bodyParser: false });
  configureHttpApp(app);
  await app.listen(port, '0.0.0.0');
}

bootstrap().catch((err) => {
  console.error(`projector failed to start: ${(err as Error).message}`);
  process.exit(1);
});
