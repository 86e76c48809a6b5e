import { randomBytes } from 'node:crypto';
import { connect, type NatsError } from 'nats';
import { Client } from 'pg';

/** Everything one test file needs to run beside others: its own database, stream and subjects. */
export interface TestContext {
  databaseUrl: string;
  natsUrl: string;
  /** JetStream stream name, unique to this context, e.g. KEYS_T3F9A1C2B. */
  streamName: string;
  /** Subject prefix to use instead of `keys.v1`, e.g. t3f9a1c2b.keys.v1. */
  subjectPrefix: string;
  dispose(): Promise<void>;
}

export class TestEnvironmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TestEnvironmentError';
  }
}

function requiredEnv(name: 'TEST_DATABASE_URL' | 'NATS_URL'): string {
  const value = process.env[name];
  if (!value) {
    throw new TestEnvironmentError(
      `${name} is not set: run the tests through jest (its global setup provides it) or set TEST_DATABASE_URL and NATS_URL to a Postgres and a NATS with JetStream`,
    );
  }
  return value;
}

const STREAM_NOT_FOUND = 10059;

/** Creates a fresh database and names a fresh stream and subject prefix; dispose() removes them. */
export async function createTestContext(): Promise<TestContext> {
  const serverUrl = requiredEnv('TEST_DATABASE_URL');
  const natsUrl = requiredEnv('NATS_URL');
  const suffix = randomBytes(5).toString('hex');
  const database = `keys_test_${suffix}`;

  await withClient(serverUrl, (client) => client.query(`create database ${database}`));
  const databaseUrl = new URL(serverUrl);
  databaseUrl.pathname = `/${database}`;
  const streamName = `KEYS_T${suffix.toUpperCase()}`;

  return {
    databaseUrl: databaseUrl.toString(),
    natsUrl,
    streamName,
    subjectPrefix: `t${suffix}.keys.v1`,
    async dispose() {
      // FORCE ends connections a test left open (e.g. a pool it forgot to destroy).
      await withClient(serverUrl, (client) => client.query(`drop database if exists ${database} with (force)`));
      await deleteStream(natsUrl, streamName);
    },
  };
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function deleteStream(natsUrl: string, streamName: string): Promise<void> {
  const nc = await connect({ servers: natsUrl, timeout: 5000 });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(streamName);
  } catch (error) {
    if ((error as NatsError).api_error?.err_code !== STREAM_NOT_FOUND) throw error;
  } finally {
    await nc.close();
  }
}
