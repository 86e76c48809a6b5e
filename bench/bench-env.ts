import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { connect } from 'nats';

/** A throwaway database and stream on the local services, like the tests' context. */
export interface BenchEnv {
  databaseUrl: string;
  natsUrl: string;
  streamName: string;
  subjectPrefix: string;
  dispose(): Promise<void>;
}

export async function createBenchEnv(): Promise<BenchEnv> {
  const serverUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const suffix = randomBytes(4).toString('hex');
  const database = `keys_bench_${suffix}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${database}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  const streamName = `KEYS_BENCH_${suffix.toUpperCase()}`;
  return {
    databaseUrl: url.toString(),
    natsUrl,
    streamName,
    subjectPrefix: `bench${suffix}.keys.v1`,
    async dispose() {
      const c = new Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`drop database if exists ${database} with (force)`);
      await c.end();
      const nc = await connect({ servers: natsUrl });
      const jsm = await nc.jetstreamManager();
      await jsm.streams.delete(streamName).catch(() => undefined);
      await nc.close();
    },
  };
}
