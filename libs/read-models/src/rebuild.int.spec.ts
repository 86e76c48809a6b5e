import type { Kysely } from 'kysely';
import { readCheckpoint } from '@keys/event-store';
import { createTestContext, type TestContext } from '@keys/testing';
import { openKeyService, operator } from '../../../test/fixtures/command-app.fixture';
import { writeKeyHistories } from './key-history.spec-helper';
import { type ReadModelDatabase, PROJECTOR_CHECKPOINT, cleanReplayChecksum, projectFromStore, readModelChecksum, rebuildReadModels, recordKeyUsage } from './index';

// The swap's two races, made deterministic: the projector moves ahead of the rebuild's replay, or lags
// behind it, right before the swap. Either way the live tables must end equal to a clean replay.
describe('rebuildReadModels swap', () => {
  let ctx: TestContext;
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let db: Kysely<ReadModelDatabase>;
  let accountId: number;

  const write = (n: number) => writeKeyHistories(store, accountId, operator, n);
  const checkpoint = () => readCheckpoint(store.db as never, PROJECTOR_CHECKPOINT);

  beforeAll(async () => {
    ctx = await createTestContext();
    store = await openKeyService(ctx);
    db = store.db as unknown as Kysely<ReadModelDatabase>;
    accountId = (await store.keys.createAccount('Acme', operator)).accountId;
  });
  afterAll(async () => {
    await store?.close();
    await ctx?.dispose();
  });

  it('applies what the projector committed after the replay head before swapping', async () => {
    await write(10);
    await projectFromStore(db, 7);
    const result = await rebuildReadModels(db, ctx.databaseUrl, {
      batchSize: 5,
      beforeSwap: async () => {
        await write(5); // the projector moves past the replayed head
        await projectFromStore(db, 3);
      },
    });
    expect(result.checkpoint).toBe(result.replayedTo + 10);
    expect(await checkpoint()).toBe(result.checkpoint);
    const { position: _p, ...replayed } = await cleanReplayChecksum(db, result.checkpoint);
    expect(await readModelChecksum(db)).toEqual(replayed);
  });

  it('moves a lagging projector checkpoint up to the replayed head so it skips what the new tables hold', async () => {
    await write(3);
    const before = await checkpoint();
    const result = await rebuildReadModels(db, ctx.databaseUrl, { batchSize: 4 });
    expect(result.replayedTo).toBe(before + 6);
    expect(await checkpoint()).toBe(result.replayedTo);
    await write(2);
    await projectFromStore(db, 100); // the projector resumes after the new checkpoint
    const { position: _p, ...replayed } = await cleanReplayChecksum(db);
    expect(await readModelChecksum(db)).toEqual(replayed);
  });

  it('leaves key_usage (telemetry, not derived from events) as it was', async () => {
    await write(1);
    await projectFromStore(db, 100);
    const keyIds = (await db.selectFrom('keys').select('id').orderBy('id').execute()).map((r) => r.id);
    const usedAt = new Date('2026-11-01T12:00:00.000Z');
    await recordKeyUsage(db, keyIds.map((id) => [id, usedAt.getTime()]), Date.now());
    await rebuildReadModels(db, ctx.databaseUrl);
    const rows = await db.selectFrom('key_usage').selectAll().orderBy('key_id').execute();
    expect(rows).toEqual(keyIds.map((id) => ({ key_id: id, last_used_at: usedAt })));
  });

  it('refuses to run twice at once', async () => {
    let release!: () => void;
    let paused!: () => void;
    const inSwap = new Promise<void>((r) => (paused = r));
    const first = rebuildReadModels(db, ctx.databaseUrl, {
      beforeSwap: () => {
        paused();
        return new Promise((r) => (release = r));
      },
    });
    await inSwap;
    await expect(rebuildReadModels(db, ctx.databaseUrl)).rejects.toThrow('another read-model rebuild is running');
    release();
    await first;
  });
});
