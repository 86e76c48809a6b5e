import type { ChildProcess } from 'node:child_process';
import type { Kysely } from 'kysely';
import { headPosition, readCheckpoint } from '@keys/event-store';
import { PROJECTOR_CHECKPOINT, type ReadModelDatabase, cleanReplayChecksum, readModelChecksum } from '@keys/read-models';
import { createTestContext, type TestContext, waitFor } from '@keys/testing';
import { startAppProcess } from '../../../test/fixtures/app-process.fixture';
import { openKeyService, operator, startCommandApp, type RunningCommandApp } from '../../../test/fixtures/command-app.fixture';

const EVENTS = 2000;

// The projector as a real process, SIGKILLed at random moments (start-up, mid-batch, between commit and
// ack) while 2,000 events flow through the relay and JetStream, and restarted each time. At the end its
// read models must be identical to a clean replay of the store.
describe('projector crash safety (SIGKILL while events flow)', () => {
  let ctx: TestContext;
  let command: RunningCommandApp;
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let db: Kysely<ReadModelDatabase>;
  let child: ChildProcess | null = null;
  let logOf: () => string = () => '';

  const startProjector = () => {
    const proc = startAppProcess('projector', ctx, { PROJECTOR_BATCH_SIZE: '40' });
    child = proc.child;
    logOf = proc.output;
    return proc.child;
  };
  const kill = async (proc: ChildProcess, signal: NodeJS.Signals) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill(signal);
    await exited;
  };
  const checkpoint = () => readCheckpoint(store.db as never, PROJECTOR_CHECKPOINT);

  beforeAll(async () => {
    ctx = await createTestContext();
    command = await startCommandApp(ctx, { runExpirySweep: false });
    store = await openKeyService(ctx);
    db = store.db as unknown as Kysely<ReadModelDatabase>;
  });
  afterAll(async () => {
    if (child) await kill(child, 'SIGKILL');
    await command?.close();
    await store?.close();
    await ctx?.dispose();
  });

  it('ends with read models identical to a clean replay', async () => {
    const { accountId } = await store.keys.createAccount('Acme', operator);
    const keyIds: number[] = [];
    let n = 0;
    const writeOne = async () => {
      const i = n++;
      if (keyIds.length < 10 || i % 4 === 0) {
        keyIds.push((await store.keys.createKey({ accountId, keyType: 'proxy', name: `k${i}`, expiresAt: null }, operator)).state.keyId);
        return;
      }
      const keyId = keyIds[i % keyIds.length];
      await store.keys
        .changeKey(keyId, null, (state, now) => {
          if (i % 11 === 0) return [{ type: 'DeleteKey', keyId, now }];
          if (i % 5 === 0) return [{ type: state.active ? 'DeactivateKey' : 'ReactivateKey', keyId, now }];
          return [{ type: 'RenameKey', keyId, name: `k${keyId}.${i}`, now }];
        }, operator)
        .catch(() => undefined); // a deleted key refuses changes
    };
    let writing = true;
    const writer = (async () => {
      while ((await headPosition(store.db as never)) < EVENTS) {
        await Promise.all(Array.from({ length: 30 }, writeOne));
        await new Promise((r) => setTimeout(r, 150));
      }
      writing = false;
    })();

    const killedAt: number[] = [];
    while (writing) {
      const before = await checkpoint();
      const proc = startProjector();
      // Kill at a random moment once this projector is working (its start-up time varies with the
      // machine's load), so every round cuts into real progress rather than into start-up.
      await waitFor(async () => !writing || (await checkpoint()) > before, { timeoutMs: 30_000, intervalMs: 20 }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, Math.random() * 800));
      await kill(proc, 'SIGKILL');
      killedAt.push(await checkpoint());
    }
    await writer;

    const final = startProjector();
    const head = await headPosition(store.db as never);
    expect(head).toBeGreaterThanOrEqual(EVENTS);
    await waitFor(async () => (await checkpoint()) === head, { timeoutMs: 30_000, intervalMs: 100 }).catch((err) => {
      throw new Error(`${(err as Error).message}\nprojector stderr:\n${logOf()}`);
    });
    await kill(final, 'SIGTERM');

    expect(killedAt.length).toBeGreaterThanOrEqual(3);
    expect(killedAt[killedAt.length - 1]).toBeGreaterThan(0); // the killed projectors did make progress
    const { position, ...replayed } = await cleanReplayChecksum(db, head);
    expect(position).toBe(head);
    expect(await readModelChecksum(db)).toEqual(replayed);
  }, 90_000);
});
