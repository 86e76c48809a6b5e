import { Writable } from 'node:stream';
import { Controller, Get, type INestApplication, Logger, Module, Req } from '@nestjs/common';
import { configureHttpApp } from './http-app';
import { createLoggedHttpApp, readLoggingSettings, redactKeys } from './logging';

const KEY = `ms-${'A1b2C3d4E5'.repeat(4)}abc123XYZ`;

@Controller('things')
class ThingsHttpController {
  private readonly logger = new Logger('things');

  @Get(':id')
  get(@Req() req: { caller?: { accountId: number } }) {
    req.caller = { accountId: 42 };
    this.logger.log(`looked at a thing, key ${KEY} was in my message`);
    return { ok: true };
  }
}

@Module({ controllers: [ThingsHttpController] })
class ThingsModule {}

describe('logging', () => {
  let app: INestApplication;
  let baseUrl: string;
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter((l) => l.length > 0));
      done();
    },
  });

  beforeAll(async () => {
    app = await createLoggedHttpApp({ module: ThingsModule }, 'things-app', { level: 'info', format: 'json' }, { destination: sink });
    configureHttpApp(app);
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await app?.close();
  });

  it('writes JSON lines: one access line per request with route template, status, duration, request id and account; the request id on every line of that request', async () => {
    lines.length = 0;
    const res = await fetch(`${baseUrl}/things/17?x=1`, { headers: { authorization: `Bearer ${KEY}`, 'x-request-id': 'req-123' } });
    expect(res.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const access = entries.find((e) => e.msg === 'GET /things/:id 200');
    expect(access).toMatchObject({ level: 30, name: 'things-app', route: '/things/:id', accountId: 42, req: { id: 'req-123', method: 'GET' }, res: { statusCode: 200 } });
    expect(typeof access?.responseTime).toBe('number');
    const inRequest = entries.find((e) => String(e.msg).startsWith('looked at a thing'));
    expect(inRequest).toMatchObject({ context: 'things', reqId: 'req-123' });
    // Secrets: no Authorization header anywhere, and a key inside a message is masked.
    const all = lines.join('\n');
    expect(all).not.toContain(KEY);
    expect(all.toLowerCase()).not.toContain('authorization');
    expect(inRequest?.msg).toContain('[redacted key]');
  });

  it('logs unmatched routes as such, never the raw path', async () => {
    lines.length = 0;
    expect((await fetch(`${baseUrl}/nothing/here/99`)).status).toBe(404);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const access = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.res !== undefined);
    expect(access).toMatchObject({ route: 'unmatched', res: { statusCode: 404 } });
    expect(lines.join('\n')).not.toContain('/nothing/here/99');
  });
});

describe('readLoggingSettings', () => {
  it('defaults to info, JSON unless stdout is a terminal; refuses unknown values naming the variable', () => {
    expect(readLoggingSettings({}, false)).toEqual({ level: 'info', format: 'json' });
    expect(readLoggingSettings({}, true)).toEqual({ level: 'info', format: 'pretty' });
    expect(readLoggingSettings({ LOG_LEVEL: 'DEBUG', LOG_FORMAT: 'json' }, true)).toEqual({ level: 'debug', format: 'json' });
    expect(() => readLoggingSettings({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL must be one of/);
    expect(() => readLoggingSettings({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT must be json or pretty/);
  });

  it('redactKeys masks both key kinds and leaves prefixes and other text alone', () => {
    expect(redactKeys(`a ${KEY} b mk-${'x'.repeat(49)} c`)).toBe('a [redacted key] b [redacted key] c');
    expect(redactKeys('prefix ms-Ab12x only')).toBe('prefix ms-Ab12x only');
  });
});
