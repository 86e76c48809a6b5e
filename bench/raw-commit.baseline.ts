import { Pool } from 'pg';
import { throughput } from './bench-result';

/**
 * The raw baseline for writes: single-row INSERT + COMMIT per operation, `concurrency` connections,
 * a row shaped like a stored event. What Postgres on this machine does with no application in the way.
 */
export async function rawCommitLoop(databaseUrl: string, concurrency: number, durationMs: number): Promise<number> {
  const pool = new Pool({ connectionString: databaseUrl, max: concurrency });
  await pool.query('create table if not exists bench_raw (id bigserial primary key, stream_id text not null, data jsonb not null)');
  const clients = await Promise.all(Array.from({ length: concurrency }, () => pool.connect()));
  const payload = JSON.stringify({ keyId: 1, accountId: 1, keyType: 'proxy', name: 'bench', prefix: 'ms-abcde', hash: 'a'.repeat(64), expiresAt: null });
  let n = 0;
  try {
    return await throughput(concurrency, durationMs, async (lane) => {
      const client = clients[lane];
      await client.query('begin');
      await client.query('insert into bench_raw (stream_id, data) values ($1, $2)', [`raw-${lane}-${n++}`, payload]);
      await client.query('commit');
    });
  } finally {
    clients.forEach((c) => c.release());
    await pool.end();
  }
}
