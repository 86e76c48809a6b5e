import { randomUUID } from 'node:crypto';
import { EventAppender, openEventStore } from '@keys/event-store';
import { type BenchResult, round, throughput } from './bench-result';

/** Event-store appends/s, one KeyCreated per new stream, `concurrency` callers, through the group-commit appender. */
export async function appendThroughput(databaseUrl: string, baseline: number, concurrency: number, durationMs: number): Promise<BenchResult> {
  const db = await openEventStore(databaseUrl, { max: 4 });
  const appender = new EventAppender(db);
  let n = 0;
  try {
    const value = await throughput(concurrency, durationMs, async () => {
      const keyId = 10_000_000 + n++;
      await appender.append({
        streamId: `key-${keyId}`,
        expectedVersion: 0,
        accountId: 1,
        events: [
          {
            type: 'KeyCreated',
            data: { keyId, accountId: 1, keyType: 'proxy', name: 'bench', prefix: 'ms-abcde', hash: randomUUID().replace(/-/g, '').padEnd(64, '0'), expiresAt: null },
            metadata: { actor: { type: 'system', name: 'bench' }, ipAddress: null, userAgent: null, correlationId: randomUUID() },
          },
        ],
      });
    });
    const ratio = value / baseline;
    return { name: 'append_throughput', value: round(value), unit: 'appends/s', baseline: round(baseline), ratio: round(ratio), target: 'ratio >= 1.5', met: ratio >= 1.5 };
  } finally {
    await appender.close();
    await db.destroy();
  }
}
