import type { Kysely } from 'kysely';
import { Pool } from 'pg';
import { type DomainEvent, type EventEnvelope, type KeyEvent, type KeyType, foldKey } from '@keys/domain';
import { type Database, appendToStream, openEventStore, readAllAfter } from '@keys/event-store';
import { generateKey } from '@keys/key-material';
import { createTestContext, type TestContext } from '@keys/testing';
import { VerifierIndex } from './verifier-index';
import { VerifierIndexSink } from './verifier-index.sink';
import { IndexBatchReader, decodeIndexRows } from './key-events.reader';
import { verifiableOf } from './verifiable-state.spec-helper';

// The catch-up reads the store with a binary COPY of a few jsonb fields and folds bytes, not events. Whatever
// the store holds, the index it builds must be exactly the fold of the events: checked here key by key against
// the domain's own fold (foldKey), for every kind of event and for names and expiries that are awkward to carry.

const metadata = { actor: { type: 'operator' as const, name: 'test' }, ipAddress: '127.0.0.1', userAgent: null, correlationId: 'c' };

/** Where the index differs from the fold of `events`: one sentence per key (or for the position and size), none if equal. */
function differences(index: VerifierIndex, events: EventEnvelope[]): string[] {
  const byKey = new Map<number, EventEnvelope[]>();
  for (const event of events) {
    if (event.type === 'AccountCreated') continue;
    const keyId = event.data.keyId;
    byKey.set(keyId, [...(byKey.get(keyId) ?? []), event]);
  }
  const found: string[] = [];
  let created = 0;
  for (const [keyId, keyEvents] of byKey) {
    const state = foldKey(keyEvents as unknown as Parameters<typeof foldKey>[0]);
    if (!state.exists) continue; // events for a key never created change nothing
    created++;
    const slot = index.slotOf(Buffer.from(state.hash, 'hex'));
    const actual = slot < 0 ? undefined : index.keyAt(slot, state.prefix);
    const expected = verifiableOf(state);
    if (JSON.stringify(actual) !== JSON.stringify(expected)) found.push(`key ${keyId}: index ${JSON.stringify(actual)}, events ${JSON.stringify(expected)}`);
  }
  const head = events.reduce((max, e) => Math.max(max, e.position), 0);
  if (index.position !== head) found.push(`position: index ${index.position}, events ${head}`);
  if (index.size !== created) found.push(`size: index ${index.size}, events ${created}`);
  return found;
}

/** A deterministic mix of every event type, including awkward names and expiries, over `keys` keys of one account. */
function* history(accountId: number, firstKeyId: number, keys: number): Generator<{ streamId: string; event: DomainEvent }> {
  let seed = accountId;
  // mulberry32: every bit of it is usable, unlike the low bits of a power-of-two LCG.
  const random = (n: number) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) / 4_294_967_296) * n | 0;
  };
  const names = ['plain', '', 'tab\there', 'new\nline', 'back\\slash "quoted"', 'Ünïcödé 😀', '\\N', 'x'.repeat(100), 'trailing\t'];
  const expiries = [null, '2031-02-03T04:05:06.789Z', '2031-02-03T04:05:06Z', '2020-01-01T00:00:00.000Z', 'not a date'];
  yield { streamId: `account-${accountId}`, event: { type: 'AccountCreated', data: { accountId, name: 'Acme' } } };
  const alive: number[] = [];
  for (let i = 0; i < keys; i++) {
    const keyId = firstKeyId + i;
    const keyType: KeyType = random(4) === 0 ? 'billing' : 'proxy';
    const material = generateKey(keyType);
    yield {
      streamId: `key-${keyId}`,
      event: { type: 'KeyCreated', data: { keyId, accountId, keyType, name: names[random(names.length)], prefix: material.prefix, hash: material.hash, expiresAt: expiries[random(expiries.length)] } },
    };
    alive.push(keyId);
    for (let changes = random(4); changes > 0 && alive.length > 0; changes--) {
      const target = alive[random(alive.length)];
      const roll = random(9);
      const event: KeyEvent =
        roll === 0
          ? { type: 'KeyRenamed', data: { keyId: target, name: names[random(names.length)] } }
          : roll === 1
            ? { type: 'KeyDeactivated', data: { keyId: target } }
            : roll === 2
              ? { type: 'KeyReactivated', data: { keyId: target } }
              : roll === 3
                ? { type: 'KeyExpirySet', data: { keyId: target, expiresAt: expiries[random(expiries.length)] } }
                : roll === 4
                  ? { type: 'KeyExpired', data: { keyId: target, expiredAt: '2030-01-01T00:00:00.000Z' } }
                  : roll === 5
                    ? { type: 'KeyRevoked', data: { keyId: target, reason: 'leaked', foundAt: null, note: null, revokedAt: '2030-01-01T00:00:00.000Z' } }
                    : roll === 6
                      ? { type: 'KeyDeleted', data: { keyId: target } }
                      : { type: 'KeyRenamed', data: { keyId: target, name: `renamed ${random(1000)}` } };
      if (event.type === 'KeyDeleted') alive.splice(alive.indexOf(target), 1);
      yield { streamId: `key-${target}`, event };
    }
  }
  // An event for a key that was never created: the fold ignores it, the position still moves.
  yield { streamId: `key-${firstKeyId + keys + 1000}`, event: { type: 'KeyDeleted', data: { keyId: firstKeyId + keys + 1000 } } };
}

describe('catch-up from the store equals the fold of its events', () => {
  let ctx: TestContext;
  let db: Kysely<Database>;
  let pool: Pool;
  const versions = new Map<string, number>();

  const append = async (items: Iterable<{ streamId: string; event: DomainEvent }>) => {
    for (const { streamId, event } of items) {
      const expectedVersion = versions.get(streamId) ?? 0;
      await db.transaction().execute((trx) => appendToStream(trx, { streamId, expectedVersion, accountId: 1, events: [{ ...event, metadata }] }));
      versions.set(streamId, expectedVersion + 1);
    }
  };
  const allEvents = () => readAllAfter(db, 0, 1_000_000);

  beforeAll(async () => {
    ctx = await createTestContext();
    db = await openEventStore(ctx.databaseUrl, { max: 2 });
    pool = new Pool({ connectionString: ctx.databaseUrl, max: 3 });
    await append(history(1, 1, 150));
  });
  afterAll(async () => {
    await pool?.end();
    await db?.destroy();
    await ctx?.dispose();
  });

  it.each([1, 7, 5000])('in batches of %i: every key, the position and the size as the domain folds the events', async (batchSize) => {
    const events = await allEvents();
    expect(new Set(events.map((e) => e.type)).size).toBe(9); // every event type is in the store
    const index = new VerifierIndex();
    const { head } = await new VerifierIndexSink(index, pool, batchSize).readToHead();
    expect(head).toBe(events.length);
    expect(differences(index, events)).toEqual([]);
  });

  it('follows what is appended after a catch-up the same way', async () => {
    const index = new VerifierIndex();
    const sink = new VerifierIndexSink(index, pool, 50);
    await sink.readToHead();
    await append(history(2, 1000, 40));
    await sink.readToHead();
    expect(differences(index, await allEvents())).toEqual([]);
  });

  it('the comparison is not blind: an index that misses or changes one event differs', async () => {
    const events = await allEvents();
    const index = new VerifierIndex();
    await new VerifierIndexSink(index, pool, 5000).readToHead();
    const mattersToVerifier = (at: number) => {
      const keyId = (events[at].data as { keyId: number }).keyId;
      const fold = (list: EventEnvelope[]) => JSON.stringify(verifiableOf(foldKey(list.filter((e) => e.type !== 'AccountCreated' && e.data.keyId === keyId) as never)));
      return fold(events) !== fold(events.filter((_, i) => i !== at));
    };
    for (const type of ['KeyCreated', 'KeyRenamed', 'KeyDeactivated', 'KeyReactivated', 'KeyExpirySet', 'KeyExpired', 'KeyRevoked', 'KeyDeleted'] as const) {
      // An event of this type that changes what a verifier knows of its key (a rename to the same name would not)…
      const at = events.findIndex((e, i) => e.type === type && mattersToVerifier(i));
      expect(at).toBeGreaterThanOrEqual(0);
      // …is missed when the index is compared with the events without it.
      expect(differences(index, events.filter((_, i) => i !== at))).not.toEqual([]);
    }
    // The store's last rename names its key for good: a different name there is one key that differs.
    const renamed = events.map((e) => e.type).lastIndexOf('KeyRenamed');
    const changed = events.map((e, i) => (i === renamed ? ({ ...e, data: { ...e.data, name: `${(e.data as { name: string }).name}!` } } as EventEnvelope) : e));
    expect(differences(index, changed)).toHaveLength(1);
    // …and an index one event ahead differs too.
    const probe = events.find((e) => e.type === 'KeyCreated') as EventEnvelope & { type: 'KeyCreated' };
    index.apply({ position: index.position + 1, type: 'KeyRenamed', data: { keyId: probe.data.keyId, name: 'other' } });
    expect(differences(index, events).length).toBeGreaterThan(0);
  });

  it('reads one after the other on one connection; a failed read fails the ones waiting behind it', async () => {
    const blocker = await pool.connect();
    const client = await pool.connect();
    const positions = (bytes: Buffer) => {
      const seen: number[] = [];
      decodeIndexRows(bytes, (row) => seen.push(row.position));
      return seen;
    };
    try {
      const reader = new IndexBatchReader(client);
      const batches = await Promise.all([reader.read(0, 3), reader.read(3, 3), reader.read(6, 3)]);
      expect(batches.map((b) => positions(b.bytes))).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);

      await blocker.query('begin');
      await blocker.query('lock table events in access exclusive mode');
      await client.query("set lock_timeout = '100ms'");
      const outcomes = await Promise.allSettled([reader.read(0, 3), reader.read(3, 3), reader.read(6, 3)]);
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(outcomes.map((o) => String((o as PromiseRejectedResult).reason))).toEqual(Array(3).fill(expect.stringMatching(/lock timeout/)));
      await blocker.query('rollback');

      // The connection is fine after a failed read.
      expect(positions((await reader.read(9, 2)).bytes)).toEqual([10, 11]);
    } finally {
      await client.query('reset lock_timeout');
      client.release();
      blocker.release();
    }
  });
});
