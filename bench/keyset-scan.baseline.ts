import { Client, types } from 'pg';

/**
 * The raw baseline for reading the store: a keyset scan of every event, 10,000 rows per query, rows read
 * (and parsed by the driver, as any reader's are) but not processed. Events per second.
 */
export async function keysetScan(databaseUrl: string): Promise<{ eventsPerSecond: number; events: number }> {
  // int8 as numbers, like the event store's pool.
  const getTypeParser = ((oid: number, format?: 'text' | 'binary') => (oid === 20 ? Number : types.getTypeParser(oid, format))) as typeof types.getTypeParser;
  const client = new Client({ connectionString: databaseUrl, types: { getTypeParser } });
  await client.connect();
  try {
    const started = process.hrtime.bigint();
    let after = 0;
    let events = 0;
    for (;;) {
      const { rows } = await client.query<{ position: number }>('select * from events where position > $1 order by position limit 10000', [after]);
      if (rows.length === 0) break;
      events += rows.length;
      after = rows[rows.length - 1].position;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { eventsPerSecond: events / seconds, events };
  } finally {
    await client.end();
  }
}
