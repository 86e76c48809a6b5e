import { type Kysely, sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { DOMAIN_EVENT_TYPES, type EventMetadata, type KeyCommand, keyStreamId } from '@keys/domain';
import { type NewEvent, appendToStream, headPosition, nextKeyIds } from '@keys/event-store';
import type { KeyServiceSession, RequestContext } from '@keys/key-service';
import { createTestContext, type TestContext } from '@keys/testing';
import { openKeyService } from '../../../test/fixtures/command-app.fixture';
import { bulkReplayInto } from './bulk-replay';
import { type ReadModelDatabase, type ReadModelTables, LIVE_TABLES, readModelChecksum, rebuildReadModels } from './index';
import { createTablesLikeLive, dropTables, replayInto } from './rebuild';

type Db = Kysely<ReadModelDatabase>;

const BULK: ReadModelTables = { keys: 'keys_bulk', securityLog: 'security_log_bulk' };
const ONE_BY_ONE: ReadModelTables = { keys: 'keys_one_by_one', securityLog: 'security_log_one_by_one' };

const context = (actor: RequestContext['actor'], ipAddress: string | null): RequestContext => ({ actor, ipAddress, userAgent: 'jest', correlationId: randomUUID() });
const operator = context({ type: 'operator', name: 'Zoë "ops" O\'Brien' }, '2001:db8::7');
const sweep = context({ type: 'system', name: 'expiry-sweep' }, null);

/** Names the command path accepts, with what usually breaks hand-written SQL or JSON: quotes, backslashes, unicode. */
const NAMES = [`O'Brien's key`, 'say "hi"', 'naïve café ☕', '日本語のキー', 'emoji 🔑🚀', 'back\\slash', '% _ like', '{"json": true}', 'ÅNGSTRÖM', 'plain'];

/**
 * A store with every event type, through the command path (three accounts, keys renamed, toggled, given and
 * cleared expiries, retired by rotation at once and with an overlap, revoked both ways, expired, deleted, in
 * combinations) and appended raw for what the deciders never write but the fold still defines: tabs and control
 * characters in names, a second KeyCreated for an id, events before a key's creation or for an id never created,
 * a KeyCreated in another stream, metadata without an actor or an ip, KeyRevoked without foundAt, expiries with
 * offsets and sub-millisecond digits, times that go backwards.
 */
async function buildStore(service: KeyServiceSession): Promise<void> {
  const keys = service.keys;
  const change = (keyId: number, command: (keyId: number, now: string) => KeyCommand, ctx = operator) =>
    keys.changeKey(keyId, null, (_state, now) => [command(keyId, now)], ctx);
  for (const [a, accountName] of ['Acme ☃', `Bob's "Bakery"`, 'Ünïcödé GmbH'].entries()) {
    const { accountId, billingKey } = await keys.createAccount(accountName, operator);
    const byBillingKey = context({ type: 'billing_key', keyId: billingKey.state.keyId, accountId }, `203.0.113.${a + 1}`);
    for (let i = 0; i < 14; i++) {
      const ctx = i % 3 === 0 ? byBillingKey : operator;
      const keyType = i % 5 === 4 ? 'billing' : 'proxy';
      const expiresAt = i % 4 === 1 ? new Date(Date.now() + 86_400_000 * (i + 1)).toISOString() : null;
      const { state } = await keys.createKey({ accountId, keyType, name: `${NAMES[(a + i) % NAMES.length]} ${i}`, expiresAt }, ctx);
      const keyId = state.keyId;
      const rename = (name: string) => change(keyId, (id, now) => ({ type: 'RenameKey', keyId: id, name, now }), ctx);
      switch (i % 7) {
        case 0:
          await rename(`${NAMES[(i + 3) % NAMES.length]} renamed`);
          await change(keyId, (id, now) => ({ type: 'DeactivateKey', keyId: id, now }), ctx);
          await rename('then "renamed" again');
          await change(keyId, (id, now) => ({ type: 'ReactivateKey', keyId: id, now }), ctx);
          break;
        case 1:
          await change(keyId, (id, now) => ({ type: 'SetKeyExpiry', keyId: id, expiresAt: new Date(Date.parse(now) + 3_600_000).toISOString(), now }));
          await change(keyId, (id, now) => ({ type: 'SetKeyExpiry', keyId: id, expiresAt: null, now }));
          await change(keyId, (id, now) => ({ type: 'DeactivateKey', keyId: id, now }), ctx);
          break;
        case 2:
          // Rotation with no overlap: the old key gets KeyExpirySet and KeyExpired at once, then a rename.
          await keys.rollKey(keyId, { accountId, keyType }, 0, ctx);
          await rename('retired, renamed');
          await change(keyId, (id, now) => ({ type: 'RevokeKey', keyId: id, reason: 'leaked', foundAt: 'https://github.com/o/r/blob/main/.env?x="1"', note: null, now }), sweep);
          break;
        case 3:
          await keys.rollKey(keyId, { accountId, keyType }, 3600, ctx);
          await change(keyId, (id, now) => ({ type: 'RevokeKey', keyId: id, reason: 'operator', foundAt: null, note: 'rotated out', now }));
          await change(keyId, (id, now) => ({ type: 'RevokeKey', keyId: id, reason: 'leaked', foundAt: 'https://example.com/second', note: null, now }));
          await change(keyId, (id, now) => ({ type: 'DeleteKey', keyId: id, now }));
          break;
        case 4:
          await change(keyId, (id, now) => ({ type: 'RetireKey', keyId: id, expiresAt: now, now }), sweep);
          await change(keyId, (id, now) => ({ type: 'DeactivateKey', keyId: id, now }), ctx);
          break;
        case 5:
          if (keyType === 'proxy') await change(keyId, (id, now) => ({ type: 'DeleteKey', keyId: id, now }), ctx);
          break;
        default:
          break; // created only
      }
    }
  }
  await appendRawEvents(service);
}

async function appendRawEvents(service: KeyServiceSession): Promise<void> {
  const db = service.db;
  const [accountId] = (await sql<{ id: number }>`select max(account_id) as id from events`.execute(db)).rows.map((r) => r.id);
  const [a, b, never, c] = await nextKeyIds(db, 4);
  const meta = (overrides: Partial<EventMetadata> = {}): EventMetadata => ({ actor: { type: 'operator', name: 'raw\ttab' }, ipAddress: '198.51.100.1', userAgent: null, correlationId: randomUUID(), ...overrides });
  const noActor = { ipAddress: null, userAgent: null, correlationId: randomUUID() } as unknown as EventMetadata;
  const noIp = { actor: { type: 'system', name: 'raw' }, userAgent: null, correlationId: randomUUID() } as unknown as EventMetadata;
  const created = (keyId: number, name: string, expiresAt: string | null, accountOf = accountId) =>
    ({ type: 'KeyCreated', data: { keyId, accountId: accountOf, keyType: 'proxy', name, prefix: `ms-raw${keyId}`, hash: randomUUID(), expiresAt } }) as const;
  const append = async (streamId: string, expectedVersion: number, events: NewEvent[]) => {
    await db.transaction().execute((trx) => appendToStream(trx, { streamId, expectedVersion, accountId, events }));
  };
  // Key a: every event type, in orders the deciders refuse, with odd times and data.
  await append(keyStreamId(a), 0, [
    { ...created(a, 'tab\there,\nnew line', '2031-06-01T12:00:00+02:00'), metadata: meta(), occurredAt: '2026-03-01T00:00:00.000Z' },
    { type: 'KeyRenamed', data: { keyId: a, name: 'bell\u0007 and \\u0000 text' }, metadata: noActor, occurredAt: '2025-01-01T00:00:00.001Z' },
    { type: 'KeyExpirySet', data: { keyId: a, expiresAt: '2031-06-01T12:00:00.1236Z' }, metadata: noIp },
    { type: 'KeyExpired', data: { keyId: a, expiredAt: '2031-06-01T12:00:00.124Z' }, metadata: meta({ actor: null as never }) },
    { type: 'KeyReactivated', data: { keyId: a }, metadata: meta() },
    { type: 'KeyRevoked', data: { keyId: a, reason: 'operator', note: 'no foundAt key', revokedAt: '2026-03-02T00:00:00.5Z' } as never, metadata: meta() },
    { type: 'KeyRevoked', data: { keyId: a, reason: 'leaked', foundAt: 'https://second.example', note: null, revokedAt: '2026-03-03T00:00:00Z' }, metadata: meta() },
    { type: 'KeyDeleted', data: { keyId: a }, metadata: meta() },
    { type: 'KeyRenamed', data: { keyId: a, name: 'renamed after delete' }, metadata: meta() },
    { type: 'KeyExpirySet', data: { keyId: a, expiresAt: null }, metadata: meta(), occurredAt: '2024-02-29T23:59:59.999Z' },
  ]);
  // Key b: an event before its creation (ignored), a second KeyCreated (ignored), changes after both.
  await append(keyStreamId(b), 0, [
    { type: 'KeyRenamed', data: { keyId: b, name: 'before creation' }, metadata: meta() },
    { ...created(b, 'b first', null), metadata: meta() },
    { type: 'KeyDeactivated', data: { keyId: b }, metadata: meta() },
    { ...created(b, 'b second', '2030-01-01T00:00:00Z', accountId + 1000), metadata: meta() },
    { type: 'KeyRenamed', data: { keyId: b, name: 'b renamed' }, metadata: meta() },
  ]);
  // An id never created: its events change nothing.
  await append(keyStreamId(never), 0, [
    { type: 'KeyRenamed', data: { keyId: never, name: 'ghost' }, metadata: meta() },
    { type: 'KeyDeleted', data: { keyId: never }, metadata: meta() },
  ]);
  // Key c: created in another stream, and created again with no other event (the unchanged path keeps the first).
  await append('key-elsewhere', 0, [{ ...created(c, 'c in another stream', null), metadata: noActor }]);
  await append(keyStreamId(c), 0, [{ ...created(c, 'c again', null), metadata: meta() }]);
}

/** Columns, constraints, indexes, grants and persistence of a table, as Postgres describes them. */
async function shapeOf(db: Db, table: string): Promise<unknown> {
  const { rows } = await sql`
    select
      (select json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'notNull', a.attnotnull,
                                         'default', pg_get_expr(d.adbin, d.adrelid)) order by a.attnum)
         from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
        where a.attrelid = ${table}::regclass and a.attnum > 0 and not a.attisdropped) as columns,
      (select json_agg(json_build_object('name', conname, 'type', contype, 'def', pg_get_constraintdef(oid)) order by conname)
         from pg_constraint where conrelid = ${table}::regclass) as constraints,
      (select json_agg(pg_get_indexdef(indexrelid) order by indexrelid::regclass::text) from pg_index where indrelid = ${table}::regclass) as indexes,
      (select relacl::text from pg_class where oid = ${table}::regclass) as grants,
      (select relpersistence from pg_class where oid = ${table}::regclass) as persistence`.execute(db);
  return rows[0];
}

/** Every row of both tables, in id order. */
async function rowsOf(db: Db, tables: ReadModelTables): Promise<{ keys: unknown[]; log: unknown[] }> {
  const keys = await sql`select * from ${sql.table(tables.keys)} order by id`.execute(db);
  const log = await sql`select * from ${sql.table(tables.securityLog)} order by id`.execute(db);
  return { keys: keys.rows, log: log.rows };
}

describe('bulkReplayInto (set-based replay)', () => {
  let ctx: TestContext;
  let service: KeyServiceSession;
  let db: Db;

  beforeAll(async () => {
    ctx = await createTestContext();
    service = await openKeyService(ctx);
    db = service.db as unknown as Db;
    await buildStore(service);
    // A grant on the live tables, which the rebuilt tables must carry too.
    await sql`grant select on keys, security_log to public`.execute(db);
  }, 120_000);
  afterAll(async () => {
    await service?.close();
    await ctx?.dispose();
  });

  it('covers every event type', async () => {
    const { rows } = await sql<{ type: string }>`select distinct type from events order by type`.execute(db);
    expect(rows.map((r) => r.type)).toEqual([...DOMAIN_EVENT_TYPES].sort());
  });

  it('writes exactly the rows the event-by-event replay writes, every column', async () => {
    const head = await headPosition(db);
    await createTablesLikeLive(db, ONE_BY_ONE);
    await createTablesLikeLive(db, BULK);
    try {
      // A small batch: the one-by-one replay also crosses batch boundaries (rows reloaded from the table).
      await replayInto(db, ONE_BY_ONE, { to: head, batchSize: 7 });
      await bulkReplayInto(db, BULK, head);
      const expected = await rowsOf(db, ONE_BY_ONE);
      expect(expected.keys.length).toBeGreaterThan(50);
      expect(expected.log.length).toBeGreaterThan(100);
      expect(await rowsOf(db, BULK)).toEqual(expected);
      // Byte for byte as Postgres renders the rows (jsonb included), not only equal after parsing.
      expect(await readModelChecksum(db, BULK)).toEqual(await readModelChecksum(db, ONE_BY_ONE));
    } finally {
      await dropTables(db, ONE_BY_ONE);
      await dropTables(db, BULK);
    }
  });

  it.each([['half of the store', 0.5], ['none of it', 0]])('replays only the events up to the given position: %s', async (_name, share) => {
    const to = Math.floor((await headPosition(db)) * share);
    await createTablesLikeLive(db, ONE_BY_ONE);
    await createTablesLikeLive(db, BULK);
    try {
      await replayInto(db, ONE_BY_ONE, { to, batchSize: 50 });
      await bulkReplayInto(db, BULK, to);
      const expected = await readModelChecksum(db, ONE_BY_ONE);
      expect(expected.keyCount > 0).toBe(share > 0);
      expect(await readModelChecksum(db, BULK)).toEqual(expected);
    } finally {
      await dropTables(db, ONE_BY_ONE);
      await dropTables(db, BULK);
    }
  });

  it('leaves the tables with the columns, constraints, indexes and grants they were created with', async () => {
    await createTablesLikeLive(db, BULK);
    try {
      const before = [await shapeOf(db, BULK.keys), await shapeOf(db, BULK.securityLog)];
      await bulkReplayInto(db, BULK, await headPosition(db));
      expect([await shapeOf(db, BULK.keys), await shapeOf(db, BULK.securityLog)]).toEqual(before);
    } finally {
      await dropTables(db, BULK);
    }
  });

  it('swaps in live tables shaped like the old ones (index and primary-key names aside)', async () => {
    const withoutNames = (shape: any) => ({
      ...shape,
      constraints: shape.constraints.map(({ type, def }: any) => ({ type, def })),
      indexes: shape.indexes.map((def: string) => def.replace(/^CREATE (UNIQUE )?INDEX \S+ ON \S+/, 'CREATE $1INDEX ON')),
    });
    const before = [withoutNames(await shapeOf(db, LIVE_TABLES.keys)), withoutNames(await shapeOf(db, LIVE_TABLES.securityLog))];
    await rebuildReadModels(db, ctx.databaseUrl);
    expect([withoutNames(await shapeOf(db, LIVE_TABLES.keys)), withoutNames(await shapeOf(db, LIVE_TABLES.securityLog))]).toEqual(before);
    expect(before[0]).toMatchObject({ grants: expect.stringContaining('=r/') });
  });

  it('refuses a key event type it does not know, as the event-by-event fold does', async () => {
    const [keyId] = (await sql<{ id: number }>`select min((data->>'keyId')::bigint) as id from events where type = 'KeyCreated'`.execute(db)).rows.map((r) => r.id);
    await service.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ v: number }>`select max(stream_version) as v from events where stream_id = ${keyStreamId(keyId)}`.execute(trx);
      await appendToStream(trx, {
        streamId: keyStreamId(keyId),
        expectedVersion: rows[0].v,
        accountId: null,
        events: [{ type: 'KeyFrobnicated', data: { keyId }, metadata: operator } as unknown as NewEvent],
      });
    });
    const head = await headPosition(db);
    await createTablesLikeLive(db, ONE_BY_ONE);
    await createTablesLikeLive(db, BULK);
    try {
      await expect(replayInto(db, ONE_BY_ONE, { to: head })).rejects.toThrow('unhandled case');
      await expect(bulkReplayInto(db, BULK, head)).rejects.toThrow('unhandled key event type(s) in the store: KeyFrobnicated');
    } finally {
      await dropTables(db, ONE_BY_ONE);
      await dropTables(db, BULK);
    }
  });
});
