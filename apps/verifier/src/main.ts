import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { configureHttpApp, readEnv } from '@keys/platform';
import { VerifierModule } from './verifier.module';

async function bootstrap(): Promise<void> {
  const port = readEnv.int(process.env, 'PORT', 3002, { min: 0, max: 65535 });
  const app = await NestFactory.create(VerifierModule, { bodyParser: false });
  configureHttpApp(app);
  await app.listen(port, '0.0.0.0');
}

bootstrap().catch((err) => {
  console.error(`verifier failed to start: ${(err as Error).message}`);
  process.exit(1);
});
