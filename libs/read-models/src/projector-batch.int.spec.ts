import type { Kysely } from 'kysely';
import { headPosition, readCheckpoint, saveCheckpoint } from '@keys/event-store';
import { createTestContext, type TestContext } from '@keys/testing';
import { openKeyService, operator } from '../../../test/fixtures/command-app.fixture';
import { writeKeyHistories } from './key-history.spec-helper';
import { type ReadModelDatabase, PROJECTOR_CHECKPOINT, cleanReplayChecksum, projectFromStore, readModelChecksum } from './index';
import { readBatch, writeBatch } from './projector-checkpoint';

// A projector batch is a read and a write that applies only if the checkpoint row is still the version the read saw.
describe('projector batches', () => {
  let ctx: TestContext;
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let db: Kysely<ReadModelDatabase>;
  let accountId: number;

  /** n keys, each created, renamed and deactivated: later events fold onto rows earlier batches wrote. */
  const write = (n: number) => writeKeyHistories(store, accountId, operator, n, { deactivate: true });
  const checkpoint = () => readCheckpoint(store.db as never, PROJECTOR_CHECKPOINT);
  const keyCount = async () => Number((await db.selectFrom('keys').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const expectEqualToCleanReplay = async () => {
    const { position, ...replayed } = await cleanReplayChecksum(db);
    expect(position).toBe(await checkpoint());
    expect(await readModelChecksum(db)).toEqual(replayed);
  };

  beforeAll(async () => {
    ctx = await createTestContext();
    store = await openKeyService(ctx);
    db = store.db as unknown as Kysely<ReadModelDatabase>;
    accountId = (await store.keys.createAccount('Acme', operator)).accountId;
    await projectFromStore(db, 100);
  });
  afterAll(async () => {
    await store?.close();
    await ctx?.dispose();
  });

  it('folds each event onto the row as the previous batches left it', async () => {
    await write(5);
    // One event per batch: every rename and deactivation starts from the row a previous batch wrote.
    const result = await projectFromStore(db, 1);
    expect(result.applied).toBe(15);
    await expectEqualToCleanReplay();
    const states = await db.selectFrom('keys').select(['name', 'state']).where('name', 'like', "k_'").execute();
    expect(states.length).toBe(5);
    expect(states.every((row) => row.state === 'inactive')).toBe(true);
  });

  it('writes nothing for a batch read before the checkpoint row changed, then applies it from the new read', async () => {
    await write(2);
    const batch = await readBatch(db, 100);
    expect(batch?.stored.length).toBe(6);
    const keysBefore = await keyCount();
    // Same position, new row version: what the rebuild's swap does.
    await saveCheckpoint(store.db as never, PROJECTOR_CHECKPOINT, batch!.checkpoint);
    expect(await writeBatch(db, batch!)).toBe(false);
    expect(await checkpoint()).toBe(batch!.checkpoint);
    expect(await keyCount()).toBe(keysBefore);
    expect((await projectFromStore(db, 100)).applied).toBe(6);
    expect(await keyCount()).toBe(keysBefore + 2);
    await expectEqualToCleanReplay();
  });

  it('applies every batch exactly once when several projectors race while events are written', async () => {
    const from = await checkpoint();
    let writing = true;
    const writes = write(20).finally(() => (writing = false));
    const projector = async () => {
      let applied = 0;
      while (writing || (await checkpoint()) < (await headPosition(store.db as never))) {
        applied += (await projectFromStore(db, 3)).applied;
      }
      return applied;
    };
    const [applied] = await Promise.all([Promise.all([projector(), projector(), projector()]), writes]);
    const head = await headPosition(store.db as never);
    expect(await checkpoint()).toBe(head);
    // Each event counted by exactly one projector: none applied a batch another had applied.
    expect(applied.reduce((a, b) => a + b, 0)).toBe(head - from);
    await expectEqualToCleanReplay();
  });
});
