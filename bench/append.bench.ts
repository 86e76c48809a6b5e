import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { EventAppender, openEventStore } from '@keys/event-store';
import { type BenchResult, round, throughput } from './bench-result';

/** Event-store appends/s, one KeyCreated per new stream, `concurrency` callers, through the group-commit appender. */
export async function appendThroughput(databaseUrl: string, baseline: number, concurrency: number, durationMs: number): Promise<BenchResult> {
  const db = await openEventStore(databaseUrl, { max: 4 });
  const appender = new EventAppender(db);
  let n = 0;
  // Transactions committed in the database meanwhile: appends per commit is the group commit's batch size.
  const commits = async () => {
    const { rows } = await sql<{ n: string }>`select xact_commit as n from pg_stat_database where datname = current_database()`.execute(db);
    return Number(rows[0].n);
  };
  try {
    const commitsBefore = await commits();
    const cpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
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
    const appends = value * (Number(process.hrtime.bigint() - started) / 1e9);
    const cpu = process.cpuUsage(cpuBefore);
    // Backends report their counters when idle, at most once a second.
    await new Promise((r) => setTimeout(r, 1500));
    const committed = (await commits()) - commitsBefore;
    const ratio = value / baseline;
    return {
      name: 'append_throughput',
      value: round(value),
      unit: 'appends/s',
      baseline: round(baseline),
      ratio: round(ratio),
      target: 'ratio >= 1.5',
      met: ratio >= 1.5,
      notes: { appends_per_commit: round(appends / committed, 1), client_cpu_us_per_append: round((cpu.user + cpu.system) / appends, 1) },
    };
  } finally {
    await appender.close();
    await db.destroy();
  }
}
