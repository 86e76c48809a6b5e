import { openEventStore } from '@keys/event-store';
import { KeyCommandService, createKeyEventAppender } from '@keys/key-service';
import { type AppProcess, startApp, waitForHttp } from './app-process';
import type { BenchEnv } from './bench-env';
import { type BenchResult, percentile, round } from './bench-result';
import { httpClient } from './http-client';

const operator = { actor: { type: 'operator' as const, name: 'bench' }, ipAddress: null, userAgent: null, correlationId: 'bench' };

/**
 * delete_latency_<n>v: what read-your-writes for verification costs a DELETE. The command and `verifiers` verifier
 * processes; each DELETE /api/keys/{id} is timed from request to response, first with the wait switched off
 * (VERIFY_PROPAGATION_TIMEOUT_MS=0: the old behaviour, the baseline), then on. With the wait on, the response comes
 * only once every verifier refuses the key, so there is no revocation window left to measure: the added latency is
 * what revocation costs now.
 */
export async function deleteLatency(env: BenchEnv, verifiers: number, keyCount: number): Promise<BenchResult> {
  const off = await deleteSamples(env, verifiers, keyCount, '0');
  const on = await deleteSamples(env, verifiers, keyCount, '1000');
  const p99 = percentile(on.samples, 99);
  const baselineP99 = percentile(off.samples, 99);
  const added = p99 - baselineP99;
  return {
    name: `delete_latency_${verifiers}v`,
    value: round(p99, 2),
    unit: 'ms (p99)',
    baseline: round(baselineP99, 2),
    ratio: round(p99 / baselineP99, 2),
    target: 'added p99 <= 10 ms',
    met: added <= 10,
    notes: {
      p50_ms: round(percentile(on.samples, 50), 2),
      baseline_p50_ms: round(percentile(off.samples, 50), 2),
      added_p50_ms: round(percentile(on.samples, 50) - percentile(off.samples, 50), 2),
      added_p99_ms: round(added, 2),
      fenced: on.fenced,
      keys: on.samples.length,
    },
  };
}

async function deleteSamples(env: BenchEnv, verifierCount: number, keyCount: number, timeoutMs: string): Promise<{ samples: number[]; fenced: number }> {
  const db = await openEventStore(env.databaseUrl, { max: 2 });
  const account = await new KeyCommandService(db, createKeyEventAppender(db)).createAccount('bench', operator);
  await db.destroy();
  const shared = { DATABASE_URL: env.databaseUrl, NATS_URL: env.natsUrl, KEYS_STREAM: env.streamName, KEYS_SUBJECT_PREFIX: env.subjectPrefix };
  const verifiers: AppProcess[] = [];
  for (let i = 0; i < verifierCount; i++) verifiers.push(startApp('verifier', { ...shared, PORT: String(3910 + i) }));
  const command = startApp('command', { RATE_LIMIT_PER_SECOND: '0', AUTH_FAILURES_PER_MINUTE: '0', VERIFY_PROPAGATION_TIMEOUT_MS: timeoutMs, ...shared, PORT: '3900' });
  const client = httpClient('http://127.0.0.1:3900', 8);
  try {
    for (let i = 0; i < verifierCount; i++) await waitForHttp(`http://127.0.0.1:${3910 + i}/health/ready`);
    await waitForHttp('http://127.0.0.1:3900/health/ready');
    const headers = { authorization: `Bearer ${account.billingKey.key}`, 'content-type': 'application/json' };
    const ids: number[] = [];
    while (ids.length < keyCount) {
      const res = await client.call('POST', '/api/keys', headers, JSON.stringify({ name: `delete ${ids.length}` }));
      if (res.status !== 201) throw new Error(`POST /api/keys answered ${res.status}`);
      ids.push((JSON.parse(res.body) as { id: number }).id);
    }
    const samples: number[] = [];
    let fenced = 0;
    for (const id of ids) {
      const started = process.hrtime.bigint();
      const res = await client.call('DELETE', `/api/keys/${id}`, { authorization: headers.authorization });
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (res.status !== 200) throw new Error(`DELETE /api/keys/${id} answered ${res.status}`);
      if (res.headers['x-keys-propagation'] === 'fenced') fenced++;
    }
    samples.sort((a, b) => a - b);
    return { samples, fenced };
  } finally {
    client.close();
    await command.stop();
    for (const v of verifiers) await v.stop();
  }
}
