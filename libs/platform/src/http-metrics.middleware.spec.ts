import { Controller, Get, type INestApplication, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import request from 'supertest';
import { configureHttpApp } from './http-app';
import { ObservabilityModule } from './observability.module';

@Controller('api/things')
class ThingsHttpController {
  @Get(':id')
  one(): { ok: true } {
    return { ok: true };
  }

  @Post()
  create(): { ok: true } {
    return { ok: true };
  }
}

async function series(name: string): Promise<Array<{ labels: Record<string, string | number>; value: number }>> {
  const metric = register.getSingleMetric(name);
  if (!metric) return [];
  return (await metric.get()).values.map((v) => ({ labels: v.labels as Record<string, string | number>, value: v.value }));
}

describe('HTTP metrics', () => {
  let app: INestApplication;
  let second: INestApplication;

  beforeAll(async () => {
    const build = async () => {
      const module = await Test.createTestingModule({ imports: [ObservabilityModule], controllers: [ThingsHttpController] }).compile();
      const created = module.createNestApplication({ bodyParser: false, logger: false });
      configureHttpApp(created);
      await created.init();
      return created;
    };
    app = await build();
    // A second app in the same process: the default metrics and the HTTP metrics are registered once.
    second = await build();
  });
  afterAll(async () => {
    await app?.close();
    await second?.close();
  });

  it('labels requests by route template, never by raw path', async () => {
    await request(app.getHttpServer()).get('/api/things/17');
    await request(app.getHttpServer()).get('/api/things/18');
    const counted = await series('http_requests_total');
    expect(counted).toContainEqual({ labels: { method: 'GET', route: '/api/things/:id', status: '200' }, value: 2 });
    expect(JSON.stringify(counted)).not.toMatch(/things\/1[78]/);
    const timed = await series('http_request_duration_seconds');
    expect(timed).toContainEqual(expect.objectContaining({ labels: expect.objectContaining({ route: '/api/things/:id', status: '200', le: '+Inf' }), value: 2 }));
  });

  it('counts unmatched routes and requests refused before routing as route="unmatched"', async () => {
    await request(app.getHttpServer()).get('/api/nothing/42');
    await request(app.getHttpServer()).post('/api/things').set('content-type', 'text/plain').send('x');
    const counted = await series('http_requests_total');
    expect(counted).toContainEqual({ labels: { method: 'GET', route: 'unmatched', status: '404' }, value: 1 });
    expect(counted).toContainEqual({ labels: { method: 'POST', route: 'unmatched', status: '415' }, value: 1 });
    expect(JSON.stringify(counted)).not.toContain('/api/nothing/42');
  });

  it('serves the default process and runtime metrics once, with keys_ready, on /metrics', async () => {
    const res = await request(second.getHttpServer()).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(res.text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(res.text).toMatch(/^keys_ready 1$/m);
    expect(res.text.match(/^# TYPE process_cpu_user_seconds_total /gm)).toHaveLength(1);
    expect(res.text).toMatch(/^http_requests_total\{method="GET",route="\/api\/things\/:id",status="200"\} 2$/m);
  });
});
