import { openEventStore } from '@keys/event-store';
import { KeyCommandService, createKeyEventAppender } from '@keys/key-service';
import { type AppProcess, startApp, startScript, waitForHttp } from './app-process';
import { CpuMeter } from './cpu-meter';
import type { BenchEnv } from './bench-env';
import { type BenchResult, round, throughput } from './bench-result';
import { httpClient } from './http-client';

const WARM_UP_MS = 2000;

/**
 * POST /api/keys per second at `concurrency` in flight, over real HTTP to the command app in its own process, with
 * `verifierCount` verifier processes (each create answers once every verifier has applied it; `_nowait`: the wait
 * switched off, to show what it costs).
 */
export async function httpCreateThroughput(env: BenchEnv, baseline: number, concurrency: number, durationMs: number, verifierCount = 1, waitForVerifiers = true): Promise<BenchResult> {
  const db = await openEventStore(env.databaseUrl, { max: 2 });
  const keys = new KeyCommandService(db, createKeyEventAppender(db));
  const account = await keys.createAccount('bench', { actor: { type: 'operator', name: 'bench' }, ipAddress: null, userAgent: null, correlationId: 'bench' });
  await db.destroy();
  const port = '3900';
  const shared = { DATABASE_URL: env.databaseUrl, NATS_URL: env.natsUrl, KEYS_STREAM: env.streamName, KEYS_SUBJECT_PREFIX: env.subjectPrefix };
  // The system as deployed: the command authenticates billing keys through the verifier.
  const verifiers: AppProcess[] = [];
  for (let i = 0; i < verifierCount; i++) verifiers.push(startApp('verifier', { ...shared, PORT: String(3902 + 10 * i) }));
  const app = startApp('command', { RATE_LIMIT_PER_SECOND: '0', ...(waitForVerifiers ? {} : { VERIFY_PROPAGATION_TIMEOUT_MS: '0' }), ...experimentEnv(), ...shared, PORT: port });
  try {
    for (let i = 0; i < verifierCount; i++) await waitForHttp(`http://127.0.0.1:${3902 + 10 * i}/health/ready`);
    await waitForHttp(`http://127.0.0.1:${port}/health/ready`);
    const headers = { authorization: `Bearer ${account.billingKey.key}`, 'content-type': 'application/json' };
    const body = JSON.stringify({ name: 'bench' });
    const client = httpClient(`http://127.0.0.1:${port}`, concurrency);
    const create = async () => {
      const res = await client.call('POST', '/api/keys', headers, body);
      if (res.status !== 201) throw new Error(`POST /api/keys answered ${res.status}`);
    };
    // Warm up first (JIT, connection pools, the first group-commit batches), as the verify benchmarks do.
    await throughput(concurrency, WARM_UP_MS, create);
    const meter = CpuMeter.start({ command: app, ...Object.fromEntries(verifiers.map((v, i) => [`verifier${i + 1}`, v])) });
    const started = process.hrtime.bigint();
    const value = await throughput(concurrency, durationMs, create);
    const cpu = meter.perOperation(value * (Number(process.hrtime.bigint() - started) / 1e9));
    client.close();
    const floor = verifierCount === 1 && waitForVerifiers ? await httpFloor(concurrency, body, headers) : {};
    const ratio = value / baseline;
    const name = `http_create_throughput${verifierCount === 1 ? '' : `_${verifierCount}v`}${waitForVerifiers ? '' : '_nowait'}`;
    return { name, value: round(value), unit: 'requests/s', baseline: round(baseline), ratio: round(ratio), target: 'ratio >= 0.5', met: ratio >= 0.5, notes: { ...cpu, ...floor } };
  } finally {
    await app.stop();
    for (const v of verifiers) await v.stop();
  }
}

const FLOOR_PORT = 3909;
const FLOOR_WINDOW_MS = 2000;

/**
 * The same client, requests and concurrency against bench/http-floor-server.ts (plain node:http, no work): CPU µs
 * per request of that server and of the load generator, and its requests/s. What any HTTP create costs on this
 * machine before it does anything.
 */
async function httpFloor(concurrency: number, body: string, headers: Record<string, string>): Promise<Record<string, number>> {
  const floor = startScript('bench/http-floor-server.ts', { FLOOR_PORT: String(FLOOR_PORT) });
  try {
    await waitForHttp(`http://127.0.0.1:${FLOOR_PORT}/`);
    const client = httpClient(`http://127.0.0.1:${FLOOR_PORT}`, concurrency);
    const post = async () => {
      const res = await client.call('POST', '/api/keys', headers, body);
      if (res.status !== 201) throw new Error(`the floor server answered ${res.status}`);
    };
    await throughput(concurrency, WARM_UP_MS / 2, post);
    const meter = CpuMeter.start({ floor });
    const started = process.hrtime.bigint();
    const rate = await throughput(concurrency, FLOOR_WINDOW_MS, post);
    const cpu = meter.perOperation(rate * (Number(process.hrtime.bigint() - started) / 1e9));
    client.close();
    return { floor_requests_per_s: round(rate), floor_server_cpu_us: cpu.floor_cpu_us, floor_loadgen_cpu_us: cpu.loadgen_cpu_us };
  } finally {
    await floor.stop();
  }
}

/** BENCH_COMMAND_ENV: extra settings for the command process as JSON, for experiments (e.g. `{"RUN_RELAY":"false"}`). */
function experimentEnv(): Record<string, string> {
  return process.env.BENCH_COMMAND_ENV ? (JSON.parse(process.env.BENCH_COMMAND_ENV) as Record<string, string>) : {};
}
