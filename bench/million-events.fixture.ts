import { createHash, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { type DomainEvent, type EventMetadata, accountStreamId, keyStreamId } from '@keys/domain';
import { type AppendRequest, GENESIS_HASH, type StoreHead, buildAppend, openEventStore } from '@keys/event-store';
import { generateKey } from '@keys/key-material';

/** A large event store shared by rebuild_throughput and verifier_cold_start (generated once per run). */
export interface LargeStore {
  databaseUrl: string;
  /** Events in the store (= head position). */
  events: number;
  /** Keys the events create. */
  keys: number;
  /** A real key created by the last KeyCreated event, to ask the verifier about. */
  probeKey: string;
  generationSeconds: number;
}

const ROWS_PER_INSERT = 10_000;
/** One change (rename, deactivate, reactivate, delete) to an earlier key after every this many creations. */
const CREATIONS_PER_CHANGE = 10;
const ACCOUNT_ID = 1;

/**
 * Fills an empty, migrated database with one account, `keyCount` KeyCreated events (one stream each) and
 * a change to a random earlier key after every tenth creation: each stream's versions follow the decider's
 * rules (no change after a delete, deactivate only when active). Rows and the hash chain come from the
 * event store's own buildAppend; only the INSERT is bulk (10,000 rows per statement through unnest), which
 * is what makes a million events take tens of seconds rather than the appender's minutes.
 */
export async function generateLargeStore(databaseUrl: string, keyCount: number): Promise<LargeStore> {
  const started = process.hrtime.bigint();
  const store = await openEventStore(databaseUrl, { max: 1 });
  await store.destroy();
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  // Bulk load of a throwaway database: losing the last commits on a crash does not matter here.
  await client.query('set synchronous_commit = off');

  const metadata: EventMetadata = { actor: { type: 'operator', name: 'bench' }, ipAddress: '127.0.0.1', userAgent: 'bench', correlationId: randomUUID() };
  const baseMs = Date.parse('2026-01-01T00:00:00.000Z');
  const version = new Uint32Array(keyCount + 1);
  const state = new Uint8Array(keyCount + 1); // 0 active, 1 inactive, 2 deleted
  const probe = generateKey('proxy');
  let head: StoreHead = { position: 0, hash: GENESIS_HASH };
  let batch: unknown[][] = newColumns();
  let inFlight: Promise<unknown> = Promise.resolve();
  let events = 0;

  const append = (request: AppendRequest) => {
    const built = buildAppend(request, head);
    head = built.head;
    for (const row of built.rows) {
      const values = [row.position, row.event_id, row.stream_id, row.stream_version, row.type, row.account_id, row.occurred_at, row.data, row.metadata, row.prev_hash, row.hash];
      values.forEach((v, i) => batch[i].push(v));
    }
    events += built.rows.length;
  };
  const flush = async () => {
    if (batch[0].length === 0) return;
    const columns = batch;
    batch = newColumns();
    // One statement in flight while the next batch is computed: Postgres works on the other core meanwhile.
    await inFlight;
    inFlight = client.query(
      `insert into events (position, event_id, stream_id, stream_version, type, account_id, occurred_at, data, metadata, prev_hash, hash)
       select * from unnest($1::bigint[], $2::uuid[], $3::text[], $4::int[], $5::text[], $6::bigint[], $7::timestamptz[], $8::jsonb[], $9::jsonb[], $10::text[], $11::text[])`,
      columns,
    );
  };
  const event = (e: DomainEvent, i: number) => ({ ...e, metadata, occurredAt: new Date(baseMs + i).toISOString() });

  append({ streamId: accountStreamId(ACCOUNT_ID), expectedVersion: 0, accountId: ACCOUNT_ID, events: [event({ type: 'AccountCreated', data: { accountId: ACCOUNT_ID, name: 'bench' } }, 0)] });
  let seed = 42;
  const random = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed % n;
  };
  for (let keyId = 1; keyId <= keyCount; keyId++) {
    const real = keyId === keyCount;
    const hash = real ? probe.hash : createHash('sha256').update(`bench-key-${keyId}`).digest('hex');
    append({
      streamId: keyStreamId(keyId),
      expectedVersion: 0,
      accountId: ACCOUNT_ID,
      events: [event({ type: 'KeyCreated', data: { keyId, accountId: ACCOUNT_ID, keyType: 'proxy', name: `key ${keyId}`, prefix: real ? probe.prefix : 'ms-bench', hash, expiresAt: null } }, keyId)],
    });
    version[keyId] = 1;
    if (keyId % CREATIONS_PER_CHANGE === 0 && keyId < keyCount) {
      const target = 1 + random(keyId);
      if (state[target] !== 2) {
        const roll = random(10);
        const change: DomainEvent =
          roll < 5
            ? { type: 'KeyRenamed', data: { keyId: target, name: `renamed ${keyId}` } }
            : roll < 9
              ? { type: state[target] === 0 ? 'KeyDeactivated' : 'KeyReactivated', data: { keyId: target } }
              : { type: 'KeyDeleted', data: { keyId: target } };
        append({ streamId: keyStreamId(target), expectedVersion: version[target], accountId: ACCOUNT_ID, events: [event(change, keyId)] });
        version[target] += 1;
        if (change.type === 'KeyDeactivated') state[target] = 1;
        else if (change.type === 'KeyReactivated') state[target] = 0;
        else if (change.type === 'KeyDeleted') state[target] = 2;
      }
    }
    if (batch[0].length >= ROWS_PER_INSERT) await flush();
  }
  await flush();
  await inFlight;
  await client.query('analyze events');
  await client.end();
  return { databaseUrl, events, keys: keyCount, probeKey: probe.key, generationSeconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

function newColumns(): unknown[][] {
  return Array.from({ length: 11 }, () => []);
}
