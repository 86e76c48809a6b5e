import type { INestApplication } from '@nestjs/common';
import { type Kysely, sql } from 'kysely';
import { headPosition, readCheckpoint } from '@keys/event-store';
import { PROJECTOR_CHECKPOINT, type ReadModelDatabase, cleanReplayChecksum, readModelChecksum } from '@keys/read-models';
import { createTestContext, type TestContext, waitFor } from '@keys/testing';
import { createProjectorApp } from '../../../projector/src/main';
import { readProjectorConfig } from '../../../projector/src/projector.config';
import { apiClient, openKeyService, operator, startCommandApp, type RunningCommandApp } from '../../../../test/fixtures/command-app.fixture';
import { runKeysctl } from '../audit/run-keysctl.spec-helper';

// `keysctl projections rebuild` while the whole pipeline runs: writers keep appending (relay → JetStream →
// projector) and HTTP reads keep answering; afterwards the live read models equal a replay from scratch.
describe('keysctl projections rebuild (live)', () => {
  let ctx: TestContext;
  let command: RunningCommandApp;
  let projector: INestApplication;
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let db: Kysely<ReadModelDatabase>;

  beforeAll(async () => {
    ctx = await createTestContext();
    command = await startCommandApp(ctx, { runExpirySweep: false });
    projector = await createProjectorApp(
      { ...readProjectorConfig({ DATABASE_URL: ctx.databaseUrl, NATS_URL: ctx.natsUrl, KEYS_STREAM: ctx.streamName, KEYS_SUBJECT_PREFIX: ctx.subjectPrefix }), batchSize: 100 },
      { quiet: true },
    );
    await projector.init();
    store = await openKeyService(ctx);
    db = store.db as unknown as Kysely<ReadModelDatabase>;
  });
  afterAll(async () => {
    await command?.close();
    await projector?.close();
    await store?.close();
    await ctx?.dispose();
  });

  it('ends with read models identical to a replay from scratch, reads answering throughout', async () => {
    const account = await store.keys.createAccount('Acme', operator);
    const accountId = account.accountId;
    const keyIds: number[] = [];
    const writeOne = async (i: number) => {
      if (keyIds.length < 5 || i % 3 === 0) {
        const k = await store.keys.createKey({ accountId, keyType: 'proxy', name: `key ${i}`, expiresAt: null }, operator);
        keyIds.push(k.state.keyId);
        return;
      }
      const keyId = keyIds[i % keyIds.length];
      const kind = i % 7;
      await store.keys
        .changeKey(keyId, null, (state, now) => {
          if (kind === 6) return [{ type: 'DeleteKey', keyId, now }];
          if (kind === 5) return [{ type: state.active ? 'DeactivateKey' : 'ReactivateKey', keyId, now }];
          return [{ type: 'RenameKey', keyId, name: `key ${keyId} v${i}`, now }];
        }, operator)
        .catch(() => undefined); // deleted keys refuse further changes; that is fine here
    };
    for (let i = 0; i < 600; i += 20) await Promise.all(Array.from({ length: 20 }, (_, j) => writeOne(i + j)));

    let writing = true;
    let written = 600;
    const writer = (async () => {
      while (writing) {
        await Promise.all(Array.from({ length: 4 }, () => writeOne(written++)));
      }
    })();
    const reads = { ok: 0, failed: 0 };
    const api = apiClient(command.baseUrl, account.billingKey.key);
    const reader = (async () => {
      while (writing) {
        const res = await api.get('/api/security-log?limit=5');
        if (res.status === 200 && res.body.logs.length === 5) reads.ok++;
        else reads.failed++;
      }
    })();

    const tableBefore = await sql<{ oid: number }>`select 'keys'::regclass::oid as oid`.execute(db);
    const run = await runKeysctl(['projections', 'rebuild', '--batch-size', '50', '--json'], { DATABASE_URL: ctx.databaseUrl });
    writing = false;
    await Promise.all([writer, reader]);

    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.replayedTo).toBeGreaterThan(400);
    expect(run.stderr).toMatch(/swapping in the rebuilt tables/);
    const tableAfter = await sql<{ oid: number }>`select 'keys'::regclass::oid as oid`.execute(db);
    expect(tableAfter.rows[0].oid).not.toBe(tableBefore.rows[0].oid); // the tables really were swapped
    expect(reads.failed).toBe(0);
    expect(reads.ok).toBeGreaterThan(0);

    const head = await headPosition(store.db as never);
    expect(head).toBeGreaterThan(result.replayedTo); // writes kept coming during the rebuild
    await waitFor(async () => (await readCheckpoint(store.db as never, PROJECTOR_CHECKPOINT)) === head, { timeoutMs: 15_000 });
    const { position, ...replayed } = await cleanReplayChecksum(db, head);
    expect(position).toBe(head);
    expect(await readModelChecksum(db)).toEqual(replayed);
    expect(replayed.logCount).toBe(head - 1); // every event but AccountCreated is one log entry
  });
});
