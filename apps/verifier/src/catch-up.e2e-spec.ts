import { type KeyEvent, foldKey, judgeKey } from '@keys/domain';
import { headPosition, readStream } from '@keys/event-store';
import { createTestContext, type TestContext, waitFor } from '@keys/testing';
import { openKeyService, operator, startCommandApp, type RunningCommandApp } from '../../../test/fixtures/command-app.fixture';
import { startVerifierApp, verifyClient, type RunningVerifierApp, type VerifyClient } from '../../../test/fixtures/verifier-app.fixture';
import { VerifierIndex } from './verifier-index';
import { verifiableOf } from './verifiable-state.spec-helper';

// A verifier that starts while writes keep flowing ends up with exactly the event store's verdicts, and
// several instances share the requests of the queue group.

describe('verifier catch-up and queue group', () => {
  let ctx: TestContext;
  let command: RunningCommandApp;
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let client: VerifyClient;
  const verifiers: RunningVerifierApp[] = [];
  const issued: Array<{ keyId: number; key: string; type: 'proxy' | 'billing' }> = [];
  let accountId: number;

  beforeAll(async () => {
    ctx = await createTestContext();
    command = await startCommandApp(ctx, { runExpirySweep: false });
    store = await openKeyService(ctx);
    const account = await store.keys.createAccount('Acme', operator);
    accountId = account.accountId;
    issued.push({ keyId: account.billingKey.state.keyId, key: account.billingKey.key, type: 'billing' });
    client = await verifyClient(ctx);
  });
  afterAll(async () => {
    await client?.close();
    for (const v of verifiers) await v.close();
    await command?.close();
    await store?.close();
    await ctx?.dispose();
  });

  const createKey = async (type: 'proxy' | 'billing') => {
    const created = await store.keys.createKey({ accountId, keyType: type, name: `k${issued.length}`, expiresAt: null }, operator);
    issued.push({ keyId: created.state.keyId, key: created.key, type });
  };

  /** One random write: mostly creations, and every kind of change to an existing key. */
  const randomWrite = async () => {
    const roll = Math.random();
    if (roll < 0.4 || issued.length < 5) return createKey(Math.random() < 0.8 ? 'proxy' : 'billing');
    const target = issued[1 + Math.floor(Math.random() * (issued.length - 1))]; // never the account's billing key
    const now = () => store.keys.now();
    const command =
      roll < 0.55
        ? { type: 'DeactivateKey' as const, keyId: target.keyId, now: now() }
        : roll < 0.7
          ? { type: 'ReactivateKey' as const, keyId: target.keyId, now: now() }
          : roll < 0.85
            ? { type: 'RenameKey' as const, keyId: target.keyId, name: `renamed ${Math.random()}`, now: now() }
            : { type: 'DeleteKey' as const, keyId: target.keyId, now: now() };
    // Refusals (e.g. reactivating a deleted key) are part of the traffic, not failures.
    await store.keys.changeKey(target.keyId, null, () => [command], operator).catch(() => undefined);
  };

  it('starts while writes flow and ends with every verdict equal to the event store', async () => {
    for (let i = 0; i < 150; i++) await createKey('proxy');

    let writing = true;
    const writers = Array.from({ length: 3 }, async () => {
      while (writing) await randomWrite();
    });
    try {
      // Small batches make the catch-up take many rounds, so writes land before, during and after it.
      const verifier = await startVerifierApp(ctx, { catchUpBatchSize: 20 });
      verifiers.push(verifier);
      await verifier.serving();
      const positionAtServing = verifier.app.get(VerifierIndex).position;
      await waitFor(async () => (await headPosition(store.db as never)) > positionAtServing + 50, { timeoutMs: 10_000 });
    } finally {
      writing = false;
      await Promise.all(writers);
    }

    const head = await headPosition(store.db as never);
    const index = verifiers[0].app.get(VerifierIndex);
    await waitFor(() => index.position === head, { timeoutMs: 5000 });

    const now = Date.now();
    const mismatches: string[] = [];
    for (const { keyId, key, type } of issued) {
      const events = await readStream(store.db as never, `key-${keyId}`);
      const expected = judgeKey(verifiableOf(foldKey(events as unknown as KeyEvent[])), type, now);
      const answer = await client.verify(key, type);
      if (JSON.stringify(answer) !== JSON.stringify(expected)) mismatches.push(`key ${keyId}: verifier ${answer.code}, store ${expected.code}`);
    }
    expect(mismatches).toEqual([]);
    expect(issued.length).toBeGreaterThan(150);
    const codes = new Set(await Promise.all(issued.map(async ({ key, type }) => (await client.verify(key, type)).code)));
    // The random writes reached every state, so the comparison above covered them all.
    expect([...codes].sort()).toEqual(expect.arrayContaining(['DELETED', 'INACTIVE', 'VALID']));
  });

  it('two instances share the load of the queue group and agree', async () => {
    const second = await startVerifierApp(ctx);
    verifiers.push(second);
    await second.serving();
    const [a, b] = verifiers;
    const before = [a.answered(), b.answered()];
    const sample = issued.slice(0, 100);
    const answers = await Promise.all(sample.map(({ key, type }) => client.verify(key, type)));
    const again = await Promise.all(sample.map(({ key, type }) => client.verify(key, type)));
    expect(again).toEqual(answers);
    const handled = [a.answered() - before[0], b.answered() - before[1]];
    expect(handled[0] + handled[1]).toBe(200);
    expect(handled[0]).toBeGreaterThan(0);
    expect(handled[1]).toBeGreaterThan(0);
  });
});
