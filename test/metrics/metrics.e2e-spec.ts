import { spawn, spawnSync } from 'node:child_process';
import type { INestApplication } from '@nestjs/common';
import { createTestContext, type TestContext, waitFor } from '@keys/testing';
import { createProjectorApp } from '../../apps/projector/src/main';
import { readProjectorConfig } from '../../apps/projector/src/projector.config';
import { apiClient, type RunningCommandApp, openKeyService } from '../fixtures/command-app.fixture';
import { type RunningGatewayApp, type RunningVerifierApp, startCommandWithVerifier, startGatewayApp } from '../fixtures/verifier-app.fixture';

// Every HTTP app's /metrics: the expected series are there, and the exposition passes `promtool check metrics`
// (CI installs Debian's prometheus package; locally the promtool test is skipped, and says so, without it).

const HAS_PROMTOOL = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
const itWithPromtool = HAS_PROMTOOL ? it : it.skip;
const PROMTOOL_SKIP = HAS_PROMTOOL ? '' : ' [SKIPPED: promtool is not installed; apt-get install prometheus]';

function promtoolCheckMetrics(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += String(chunk)));
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

describe('/metrics on every app', () => {
  let ctx: TestContext;
  let command: RunningCommandApp;
  let verifier: RunningVerifierApp;
  let gateway: RunningGatewayApp;
  let projector: INestApplication;
  let projectorUrl: string;
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let billingKey: string;
  let proxyKey: string;
  const scraped: Record<string, string> = {};

  beforeAll(async () => {
    ctx = await createTestContext();
    ({ command, store, verifier, billingKey } = await startCommandWithVerifier(ctx));
    projector = await createProjectorApp(
      readProjectorConfig({ DATABASE_URL: ctx.databaseUrl, NATS_URL: ctx.natsUrl, KEYS_STREAM: ctx.streamName, KEYS_SUBJECT_PREFIX: ctx.subjectPrefix }),
      { quiet: true },
    );
    await projector.listen(0, '127.0.0.1');
    projectorUrl = `http://127.0.0.1:${(projector.getHttpServer().address() as { port: number }).port}`;
    gateway = await startGatewayApp(ctx);

    const api = apiClient(command.baseUrl, billingKey);
    const created = await api.post('/api/keys', { name: 'Metrics' });
    expect(created.status).toBe(201);
    proxyKey = created.body.key;
    expect((await api.get(`/api/keys/${created.body.id}`)).status).toBe(200);
    expect((await apiClient(command.baseUrl).get('/no/such/route/17')).status).toBe(404);
    const asProxy = apiClient(gateway.baseUrl, created.body.key);
    await waitFor(async () => (await asProxy.get('/v1/whoami')).status === 200, { timeoutMs: 10_000 });
    expect((await apiClient(gateway.baseUrl, 'sk_not_a_key').get('/v1/models')).status).toBe(401);
    expect((await apiClient(gateway.baseUrl).get('/v1/models')).status).toBe(401);

    const urls = { command: command.baseUrl, verifier: verifier.baseUrl, projector: projectorUrl, gateway: gateway.baseUrl };
    for (const [app, url] of Object.entries(urls)) {
      expect((await fetch(`${url}/health/ready`)).status).toBe(200);
      const res = await fetch(`${url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      scraped[app] = await res.text();
    }
  });
  afterAll(async () => {
    await gateway?.close();
    await projector?.close();
    await verifier?.close();
    await command?.close();
    await store?.close();
    await ctx?.dispose();
  });

  it.each(['command', 'verifier', 'projector', 'gateway'])('%s exposes runtime, HTTP and readiness series', (app) => {
    const text = scraped[app];
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(text).toMatch(/^http_requests_total\{method="GET",route="\/health\/ready",status="200"\} \d+$/m);
    expect(text).toMatch(/^keys_ready [01]$/m);
    // Route templates only: no raw ids, no keys.
    expect(text).not.toMatch(/route="[^"]*\/\d+[/"]/);
    expect(text).not.toContain(proxyKey);
    expect(text).not.toContain(billingKey);
    expect(text).not.toContain('sk_not_a_key');
  });

  it('labels HTTP series by route template, unmatched routes as "unmatched"', () => {
    expect(scraped.command).toMatch(/^http_requests_total\{method="GET",route="\/api\/keys\/:id",status="200"\} 1$/m);
    expect(scraped.command).toMatch(/^http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/api\/keys\/:id",status="200"\} 1$/m);
    expect(scraped.command).toMatch(/^http_requests_total\{method="GET",route="unmatched",status="404"\} 1$/m);
    expect(scraped.gateway).toMatch(/^http_requests_total\{method="GET",route="\/v1\/models",status="401"\} 2$/m);
  });

  it('exposes the new keys_* series', () => {
    const text = scraped.gateway;
    expect(text).toMatch(/^keys_auth_failures_total\{code="invalid_api_key"\} \d+$/m);
    expect(text).toMatch(/^keys_verify_client_duration_seconds_count\{outcome="valid"\} \d+$/m);
    expect(text).toMatch(/^keys_verify_client_duration_seconds_count\{outcome="refused"\} \d+$/m);
    expect(text).toMatch(/^# TYPE keys_verify_client_errors_total counter$/m);
    expect(text).toMatch(/^keys_relay_lag_seconds \d/m);
    expect(text).toMatch(/^# TYPE keys_rate_limited_total counter$/m);
    expect(text).toMatch(/^keys_readiness_check_ok\{check="nats"\} [01]$/m);
    expect(text).toMatch(/^keys_follower_lag_events\{follower="verifier"\} \d+$/m);
  });

  itWithPromtool.each(['command', 'verifier', 'projector', 'gateway'])(`%s passes promtool check metrics${PROMTOOL_SKIP}`, async (app) => {
    const { code, output } = await promtoolCheckMetrics(scraped[app]);
    expect({ code, output }).toEqual({ code: 0, output: '' });
  });
});
