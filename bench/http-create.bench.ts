import { EventAppender, openEventStore } from '@keys/event-store';
import { KeyCommandService } from '@keys/key-service';
import { startApp, waitForHttp } from './app-process';
import type { BenchEnv } from './bench-env';
import { type BenchResult, round, throughput } from './bench-result';

/** POST /api/keys per second at `concurrency` in flight, over real HTTP to the command app in its own process. */
export async function httpCreateThroughput(env: BenchEnv, baseline: number, concurrency: number, durationMs: number): Promise<BenchResult> {
  const db = await openEventStore(env.databaseUrl, { max: 2 });
  const keys = new KeyCommandService(db, new EventAppender(db));
  const account = await keys.createAccount('bench', { actor: { type: 'operator', name: 'bench' }, ipAddress: null, userAgent: null, correlationId: 'bench' });
  await db.destroy();
  const port = '3900';
  const app = startApp('command', {
    DATABASE_URL: env.databaseUrl,
    NATS_URL: env.natsUrl,
    KEYS_STREAM: env.streamName,
    KEYS_SUBJECT_PREFIX: env.subjectPrefix,
    PORT: port,
  });
  try {
    await waitForHttp(`http://127.0.0.1:${port}/health/ready`);
    const headers = { authorization: `Bearer ${account.billingKey.key}`, 'content-type': 'application/json' };
    const body = JSON.stringify({ name: 'bench' });
    const value = await throughput(concurrency, durationMs, async () => {
      const res = await fetch(`http://127.0.0.1:${port}/api/keys`, { method: 'POST', headers, body });
      if (res.status !== 201) throw new Error(`POST /api/keys answered ${res.status}`);
      await res.arrayBuffer();
    });
    const ratio = value / baseline;
    return { name: 'http_create_throughput', value: round(value), unit: 'requests/s', baseline: round(baseline), ratio: round(ratio), target: 'ratio >= 0.5', met: ratio >= 0.5 };
  } finally {
    await app.stop();
  }
}
