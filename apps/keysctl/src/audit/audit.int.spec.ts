import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { Client } from 'pg';
import { type EventEnvelope, type KeyCommand } from '@keys/domain';
import { readStream } from '@keys/event-store';
import type { CommandDb, RequestContext } from '@keys/key-service';
import { type ReadModelDatabase, projectFromStore } from '@keys/read-models';
import { createTestContext, type TestContext, waitFor } from '@keys/testing';
import { openKeyService } from '../../../../test/fixtures/command-app.fixture';
import { keysctl } from '../../../../test/fixtures/keysctl.fixture';
import { runKeysctl } from './run-keysctl.spec-helper';

type ReadModelDb = Kysely<ReadModelDatabase>;

const alice: RequestContext = { actor: { type: 'operator', name: 'alice' }, ipAddress: '203.0.113.7', userAgent: 'keysctl', correlationId: randomUUID() };
const sweep: RequestContext = { actor: { type: 'system', name: 'expiry-sweep' }, ipAddress: null, userAgent: null, correlationId: randomUUID() };

type KeyView = { id: number; type: string; name: string; prefix: string; status: string; active: boolean; createdAt: string; expiresAt: string | null; revokedReason: string | null; revokedAt: string | null };

interface Snapshot {
  at: string;
  /** The command side's key_lookup. */
  keys: KeyView[];
  /** The projector's `keys` read model, caught up with the store the way the projector does it. */
  readModel: KeyView[];
}

/** A read-model row judged at `at`, as the HTTP reads and the verifier judge expiry. */
function statusAt(at: string, deleted: boolean, expired: boolean, active: boolean, expiresAt: Date | null): string {
  if (deleted) return 'deleted';
  if (expired || (expiresAt !== null && expiresAt.getTime() <= Date.parse(at))) return 'expired';
  return active ? 'active' : 'inactive';
}

describe('keysctl audit', () => {
  let ctx: TestContext;
  let service: Awaited<ReturnType<typeof openKeyService>>;
  let env: Record<string, string>;
  let accountId: number;
  let billingKeyId: number;
  let prodKeyId: number;
  let beforeAccount: string;
  const snapshots: Snapshot[] = [];

  /** What the read models show right now (key_lookup, and the projector's `keys`), judged at this instant. */
  async function snapshotReadModel(db: CommandDb): Promise<void> {
    const at = new Date().toISOString();
    const rows = await db.selectFrom('key_lookup').selectAll().where('account_id', '=', accountId).orderBy('key_id').execute();
    await projectFromStore(db as never, 100);
    const projected = await (db as unknown as ReadModelDb).selectFrom('keys').selectAll().where('account_id', '=', accountId).orderBy('id').execute();
    snapshots.push({
      at,
      keys: rows.map((r) => ({
        id: r.key_id,
        type: r.key_type,
        name: r.name,
        prefix: r.prefix,
        status: statusAt(at, r.deleted, r.expired, r.active, r.expires_at),
        active: r.active,
        createdAt: r.created_at.toISOString(),
        expiresAt: r.expires_at?.toISOString() ?? null,
        // This history revokes nothing (key_lookup keeps only the flag).
        revokedReason: null,
        revokedAt: null,
      })),
      readModel: projected.map((r) => ({
        id: r.id,
        type: r.key_type,
        name: r.name,
        prefix: r.prefix,
        status: statusAt(at, r.state === 'deleted', r.state === 'expired', r.active, r.expires_at),
        active: r.active,
        createdAt: r.created_at.toISOString(),
        expiresAt: r.expires_at?.toISOString() ?? null,
        revokedReason: r.revoked_reason,
        revokedAt: r.revoked_at?.toISOString() ?? null,
      })),
    });
    // The next change must happen at a later millisecond than the snapshot's instant.
    await waitFor(() => Date.now() > Date.parse(at));
  }

  const change = (keyId: number, command: (now: string) => KeyCommand, by: RequestContext) =>
    service.keys.changeKey(keyId, null, (_state, now) => [command(now)], by);

  beforeAll(async () => {
    ctx = await createTestContext();
    env = { DATABASE_URL: ctx.databaseUrl };
    service = await openKeyService(ctx);
    beforeAccount = new Date().toISOString();
    await waitFor(() => Date.now() > Date.parse(beforeAccount));

    const account = await service.keys.createAccount('Acme', alice);
    accountId = account.accountId;
    billingKeyId = account.billingKey.state.keyId;
    const customer: RequestContext = {
      actor: { type: 'billing_key', keyId: billingKeyId, accountId },
      ipAddress: '198.51.100.23',
      userAgent: 'curl/8',
      correlationId: randomUUID(),
    };
    prodKeyId = (await service.keys.createKey({ accountId, keyType: 'proxy', name: 'Prod', expiresAt: null }, customer)).state.keyId;
    await snapshotReadModel(service.db);

    await change(prodKeyId, (now) => ({ type: 'RenameKey', keyId: prodKeyId, name: 'Production', now }), customer);
    const shortExpiry = new Date(Date.now() + 1500).toISOString();
    const shortKeyId = (await service.keys.createKey({ accountId, keyType: 'proxy', name: 'Short', expiresAt: shortExpiry }, customer)).state.keyId;
    await change(prodKeyId, (now) => ({ type: 'DeactivateKey', keyId: prodKeyId, now }), customer);
    await snapshotReadModel(service.db);

    // Past the short key's expiry, before the sweep has run: the read model still says active.
    await waitFor(() => Date.now() > Date.parse(shortExpiry), { timeoutMs: 10_000 });
    await snapshotReadModel(service.db);

    await change(shortKeyId, (now) => ({ type: 'ExpireKey', keyId: shortKeyId, now }), sweep);
    await change(prodKeyId, (now) => ({ type: 'DeleteKey', keyId: prodKeyId, now }), customer);
    await snapshotReadModel(service.db);
  });

  afterAll(async () => {
    await service?.close();
    await ctx?.dispose();
  });

  it('verify: an intact store is ok, with the number of events and the head hash', async () => {
    const head = await service.db.selectFrom('events').select(['position', 'hash']).orderBy('position', 'desc').limit(1).executeTakeFirstOrThrow();
    const human = await runKeysctl(['audit', 'verify'], env);
    expect(human).toMatchObject({ code: 0, stdout: `ok ${head.position} events, head position ${head.position} hash ${head.hash}\n` });
    const json = await runKeysctl(['audit', 'verify', '--json'], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ ok: true, count: head.position, headPosition: head.position, headHash: head.hash });
  });

  it('state: the account as of each captured instant equals what the read models showed then', async () => {
    expect(snapshots).toHaveLength(4);
    for (const snapshot of snapshots) {
      const run = await runKeysctl(['audit', 'state', '--account', String(accountId), '--as-of', snapshot.at, '--json'], env);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({ accountId, asOf: snapshot.at, accountExisted: true, keys: snapshot.keys });
      expect(JSON.parse(run.stdout).keys).toEqual(snapshot.readModel);
    }
    // The instants cover every status, so the comparison is not trivially "all active".
    expect(snapshots.map((s) => s.keys.map((k) => k.status).join(','))).toEqual([
      'active,active',
      'active,inactive,active',
      'active,inactive,expired',
      'active,deleted,expired',
    ]);
  });

  it('state: before the account existed there is nothing; the human output is a table', async () => {
    const before = await runKeysctl(['audit', 'state', '--account', String(accountId), '--as-of', beforeAccount, '--json'], env);
    expect(JSON.parse(before.stdout)).toEqual({ accountId, asOf: beforeAccount, accountExisted: false, keys: [] });

    const last = snapshots[snapshots.length - 1];
    const table = await runKeysctl(['audit', 'state', '--account', String(accountId), '--as-of', last.at], env);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toBe(`account ${accountId} as of ${last.at}: 3 keys`);
    expect(lines[1].split(/\s{2,}/)).toEqual(['ID', 'TYPE', 'NAME', 'PREFIX', 'STATUS', 'ACTIVE', 'CREATED', 'EXPIRES']);
    expect(lines[3].split(/\s{2,}/).slice(0, 6)).toEqual([String(prodKeyId), 'proxy', 'Production', last.keys[1].prefix, 'deleted', 'false']);

    const usage = await runKeysctl(['audit', 'state', '--account', String(accountId), '--as-of', '2030-01-01'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--as-of must be an ISO-8601 date-time with a time zone');
    const unknown = await runKeysctl(['audit', 'state', '--account', '999', '--as-of', last.at], env);
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toContain('no account 999');
  });

  it('history: every event of the key in order, with actor, IP address and time', async () => {
    const stored = await readStream(service.db as never, `key-${prodKeyId}`);
    const json = await runKeysctl(['audit', 'history', '--key', String(prodKeyId), '--json'], env);
    expect(json.code).toBe(0);
    const events = JSON.parse(json.stdout) as EventEnvelope[];
    expect(events).toEqual(stored);
    expect(events.map((e) => e.type)).toEqual(['KeyCreated', 'KeyRenamed', 'KeyDeactivated', 'KeyDeleted']);
    expect(events.map((e) => e.position)).toEqual([...events.map((e) => e.position)].sort((a, b) => a - b));

    const human = await runKeysctl(['audit', 'history', '--key', String(prodKeyId)], env);
    const lines = human.stdout.trim().split('\n');
    expect(lines[0]).toBe(`key ${prodKeyId} (proxy, account ${accountId}): 4 events`);
    expect(lines.slice(2)).toHaveLength(4);
    lines.slice(2).forEach((line, i) => {
      const cells = line.split(/\s{2,}/);
      expect(cells.slice(0, 5)).toEqual([String(events[i].position), events[i].occurredAt, events[i].type, `billing_key ${billingKeyId} (account ${accountId})`, '198.51.100.23']);
    });
    expect(lines[3]).toContain('name="Production"');
    // The key's SHA-256 is in the stored event but not on an auditor's screen.
    expect(human.stdout).not.toContain((events[0].data as { hash: string }).hash);

    const created = await runKeysctl(['audit', 'history', '--key', String(billingKeyId)], env);
    expect(created.stdout).toMatch(/KeyCreated\s+operator alice\s+203\.0\.113\.7/);

    const unknown = await runKeysctl(['audit', 'history', '--key', '4242'], env);
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toContain('no key 4242');
  });

  // Last: it breaks the chain for good.
  it('verify: a row tampered with as superuser is found at its position, with exit code 1', async () => {
    const [renamed] = (await readStream(service.db as never, `key-${prodKeyId}`)).filter((e) => e.type === 'KeyRenamed');
    const client = new Client({ connectionString: ctx.databaseUrl });
    await client.connect();
    try {
      await client.query('alter table events disable trigger all');
      await client.query(`update events set data = jsonb_set(data, '{name}', '"Innocent"') where position = $1`, [renamed.position]);
      // The account id is hash-covered too: moving the deletion to another account is caught (below).
      await client.query(`update events set account_id = 999 where stream_id = $1 and type = 'KeyDeleted'`, [`key-${prodKeyId}`]);
      await client.query('alter table events enable trigger all');
    } finally {
      await client.end();
    }

    // As an operator runs it: a real process and its exit code.
    const spawned = await keysctl(['audit', 'verify'], env);
    expect(spawned).toMatchObject({ code: 1, stdout: `mismatch at position ${renamed.position} (hash_mismatch)\n` });
    const json = await runKeysctl(['audit', 'verify', '--json'], env);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ ok: false, position: renamed.position, reason: 'hash_mismatch' });

    const last = snapshots[snapshots.length - 1];
    const state = await runKeysctl(['audit', 'state', '--account', String(accountId), '--as-of', last.at, '--json'], env);
    expect(JSON.parse(state.stdout).keys.find((k: { id: number }) => k.id === prodKeyId)).toMatchObject({ status: 'deleted', name: 'Innocent' });

    // --from trusts the stored link into its first position, so checking after the renamed row finds the
    // next tampered one: the deletion re-routed to account 999.
    const deleted = (await readStream(service.db as never, `key-${prodKeyId}`)).find((e) => e.type === 'KeyDeleted')!;
    const after = await runKeysctl(['audit', 'verify', '--from', String(renamed.position + 1), '--json'], env);
    expect(after.code).toBe(1);
    expect(JSON.parse(after.stdout)).toEqual({ ok: false, position: deleted.position, reason: 'hash_mismatch' });
    const beyond = await runKeysctl(['audit', 'verify', '--from', String(deleted.position + 1), '--json'], env);
    expect(beyond.code).toBe(0);
  });
});
