import { type NatsConnection } from 'nats';
import { connectNats, verifySubject } from '@keys/bus';
import { openEventStore } from '@keys/event-store';
import { KeyCommandService, createKeyEventAppender } from '@keys/key-service';
import { startApp, waitForHttp } from './app-process';
import type { BenchEnv } from './bench-env';
import { type BenchResult, percentile, round } from './bench-result';
import { httpClient } from './http-client';

const operator = { actor: { type: 'operator' as const, name: 'bench' }, ipAddress: null, userAgent: null, correlationId: 'bench' };

/**
 * revocation_p99: command and verifier in their own processes (the command's relay publishes to JetStream,
 * the verifier follows LISTEN/NOTIFY and JetStream). For each key: DELETE /api/keys/{id} over HTTP and, from
 * the moment the response arrives, verify requests back to back until the verifier answers DELETED.
 */
export async function revocationP99(env: BenchEnv, keyCount: number): Promise<BenchResult> {
  const db = await openEventStore(env.databaseUrl, { max: 2 });
  const account = await new KeyCommandService(db, createKeyEventAppender(db)).createAccount('bench', operator);
  await db.destroy();
  const shared = { DATABASE_URL: env.databaseUrl, NATS_URL: env.natsUrl, KEYS_STREAM: env.streamName, KEYS_SUBJECT_PREFIX: env.subjectPrefix };
  const verifier = startApp('verifier', { ...shared, PORT: '3902' });
  const command = startApp('command', { RATE_LIMIT_PER_SECOND: '0', ...shared, PORT: '3900' });
  const nc = await connectNats({ url: env.natsUrl }, 'keys-bench-revocation');
  const client = httpClient('http://127.0.0.1:3900', 8);
  try {
    await waitForHttp('http://127.0.0.1:3902/health/ready');
    await waitForHttp('http://127.0.0.1:3900/health/ready');
    const headers = { authorization: `Bearer ${account.billingKey.key}`, 'content-type': 'application/json' };
    const keys: Array<{ id: number; key: string }> = [];
    while (keys.length < keyCount) {
      const res = await client.call('POST', '/api/keys', headers, JSON.stringify({ name: `revoke ${keys.length}` }));
      if (res.status !== 201) throw new Error(`POST /api/keys answered ${res.status}`);
      const body = JSON.parse(res.body) as { id: number; key: string };
      keys.push({ id: body.id, key: body.key });
    }
    const subject = verifySubject(env.subjectPrefix);
    // Every key is known to the verifier before its revocation is timed.
    for (const { key } of keys) await until(nc, subject, key, 'VALID', 10_000);

    const samples: number[] = [];
    let refusedAtFirstAsk = 0;
    for (const { id, key } of keys) {
      const res = await client.call('DELETE', `/api/keys/${id}`, { authorization: headers.authorization });
      const answeredAt = process.hrtime.bigint();
      if (res.status !== 200) throw new Error(`DELETE /api/keys/${id} answered ${res.status}`);
      const asks = await until(nc, subject, key, 'DELETED', 10_000);
      samples.push(Number(process.hrtime.bigint() - answeredAt) / 1e6);
      if (asks === 1) refusedAtFirstAsk++;
    }
    samples.sort((a, b) => a - b);
    const value = percentile(samples, 99);
    return {
      name: 'revocation_p99',
      value: round(value, 2),
      unit: 'ms',
      baseline: null,
      ratio: null,
      target: '<= 10 ms',
      met: value <= 10,
      notes: { p50_ms: round(percentile(samples, 50), 2), max_ms: round(samples[samples.length - 1], 2), keys: samples.length, refused_at_first_ask: refusedAtFirstAsk },
    };
  } finally {
    client.close();
    await nc.close();
    await command.stop();
    await verifier.stop();
  }
}

/** Asks back to back until the verifier answers `code`; returns how many requests that took. */
async function until(nc: NatsConnection, subject: string, key: string, code: string, timeoutMs: number): Promise<number> {
  const payload = new TextEncoder().encode(JSON.stringify({ key, scope: 'proxy' }));
  const deadline = Date.now() + timeoutMs;
  for (let asks = 1; ; asks++) {
    const answer = JSON.parse(new TextDecoder().decode((await nc.request(subject, payload, { timeout: 2000 })).data)) as { valid: boolean; code?: string };
    if ((answer.valid ? 'VALID' : answer.code) === code) return asks;
    if (Date.now() > deadline) throw new Error(`the verifier did not answer ${code} within ${timeoutMs} ms`);
  }
}
