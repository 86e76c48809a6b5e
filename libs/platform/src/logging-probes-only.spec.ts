import { Writable } from 'node:stream';
import { Controller, Get, Logger, Module } from '@nestjs/common';
import { configureHttpApp } from './http-app';
import { createLoggedHttpApp } from './logging';

// A file of its own: nestjs-pino keeps its root logger in a static, so two apps in one module registry would share it.

@Controller('things')
class ThingsHttpController {
  private readonly logger = new Logger('things');

  @Get(':id')
  get() {
    this.logger.log('looked at a thing');
    return { ok: true };
  }
}

@Module({ controllers: [ThingsHttpController] })
class ThingsModule {}

describe('logging without request logging (apps that serve only health and metrics)', () => {
  it('runs no request middleware: lines logged while serving carry no request id', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter((l) => l.length > 0));
        done();
      },
    });
    const app = await createLoggedHttpApp({ module: ThingsModule }, 'probes-only', { level: 'info', format: 'json' }, { destination: sink, requestLogging: false });
    try {
      configureHttpApp(app);
      await app.listen(0, '127.0.0.1');
      const port = (app.getHttpServer().address() as { port: number }).port;
      expect((await fetch(`http://127.0.0.1:${port}/things/1`, { headers: { 'x-request-id': 'req-456' } })).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(entries.find((e) => String(e.msg).startsWith('looked at a thing'))).toMatchObject({ context: 'things' });
      expect(lines.join('\n')).not.toContain('req-456');
      expect(entries.find((e) => e.res !== undefined)).toBeUndefined();
    } finally {
      await app.close();
    }
  });
});

