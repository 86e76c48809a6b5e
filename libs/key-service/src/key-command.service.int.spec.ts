import { type ExistingKeyState, foldKey, keyStreamId } from '@keys/domain';
import { EventAppender, readStream } from '@keys/event-store';
import { createTestContext, type TestContext } from '@keys/testing';
import { KeyCommandService } from './key-command.service';
import { keyLookupRow } from './key-lookup.table';
import { type KeyServiceSession, openKeyService } from './key-service.session';
import type { RequestContext } from './request-context';

const operator: RequestContext = { actor: { type: 'operator', name: 'test' }, ipAddress: null, userAgent: 'jest', correlationId: 'corr' };

// The write path against Postgres: every command goes through the group-commit appender, and key_lookup
// (written by its inline projection) always equals the key streams folded by the decider.
describe('KeyCommandService', () => {
  let ctx: TestContext;
  let session: KeyServiceSession;

  beforeAll(async () => {
    ctx = await createTestContext();
    session = await openKeyService(ctx.databaseUrl);
  });

  afterAll(async () => {
    await session?.close();
    await ctx?.dispose();
  });

  /** key_lookup's row for the key, and the row folded from its stream: they must agree. */
  async function lookupAndFold(keyId: number) {
    const row = await session.db.selectFrom('key_lookup').selectAll().where('key_id', '=', keyId).executeTakeFirstOrThrow();
    const stream = await readStream(session.db, keyStreamId(keyId));
    const folded = keyLookupRow(foldKey(stream.flatMap((e) => (e.type === 'AccountCreated' ? [] : [e]))) as ExistingKeyState, stream.length);
    const asStored = { ...row, expires_at: row.expires_at?.toISOString() ?? null, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() };
    return { row: asStored, folded };
  }

  it('refuses an appender that does not keep key_lookup', () => {
    expect(() => new KeyCommandService(session.db, new EventAppender(session.db))).toThrow(/key_lookup/);
  });

  it('creates an account and its billing key atomically, in order, with key_lookup written', async () => {
    const account = await session.keys.createAccount('Acme', operator);
    const key = account.billingKey;
    const [accountEvent] = await readStream(session.db, `account-${account.accountId}`);
    expect(accountEvent.position + 1).toBe(key.events[0].position);
    expect(account.position).toBe(key.events[0].position);
    expect(key.state).toMatchObject({ keyType: 'billing', accountId: account.accountId, createdAt: key.events[0].occurredAt });
    const { row, folded } = await lookupAndFold(key.state.keyId);
    expect(row).toEqual(folded);
  });

  it('keeps key_lookup equal to the folded stream through changes, a roll and a refusal', async () => {
    const account = await session.keys.createAccount('Beta', operator);
    const billing = account.billingKey.state.keyId;
    const proxy = await session.keys.createKey({ accountId: account.accountId, keyType: 'proxy', name: 'prod', expiresAt: null }, operator);
    const keyId = proxy.state.keyId;
    const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
    await session.keys.changeKey(keyId, null, (_s, now) => [{ type: 'RenameKey', keyId, name: 'prod-1', now }, { type: 'SetKeyExpiry', keyId, expiresAt: inAnHour, now }], operator);
    await session.keys.changeKey(keyId, null, (_s, now) => [{ type: 'SetKeyExpiry', keyId, expiresAt: null, now }, { type: 'DeactivateKey', keyId, now }], operator);

    const rolled = await session.keys.rollKey(keyId, { accountId: account.accountId, keyType: 'proxy' }, 0, operator);
    expect(rolled.state).toMatchObject({ name: 'prod-1', keyType: 'proxy', accountId: account.accountId, active: true });
    expect(rolled.old.state).toMatchObject({ expired: true });
    expect(rolled.old.events[0].position).toBe(rolled.events[0].position + 1);
    expect(rolled.position).toBe(rolled.old.events[rolled.old.events.length - 1].position);

    // The account's only billing key: the refusal rolls back the events and key_lookup alike.
    const before = await readStream(session.db, keyStreamId(billing));
    await expect(session.keys.changeKey(billing, null, (_s, now) => [{ type: 'DeactivateKey', keyId: billing, now }], operator)).rejects.toMatchObject({ code: 'last_billing_key' });
    expect(await readStream(session.db, keyStreamId(billing))).toEqual(before);

    for (const id of [billing, keyId, rolled.state.keyId]) {
      const { row, folded } = await lookupAndFold(id);
      expect(row).toEqual(folded);
    }
  });

  it('scopes a key to its account and type like a missing one', async () => {
    const account = await session.keys.createAccount('Gamma', operator);
    const keyId = account.billingKey.state.keyId;
    await expect(session.keys.changeKey(keyId, { accountId: account.accountId + 1, keyType: 'billing' }, () => [], operator)).rejects.toMatchObject({ code: 'key_not_found' });
    await expect(session.keys.rollKey(keyId, { accountId: account.accountId, keyType: 'proxy' }, 60, operator)).rejects.toMatchObject({ code: 'key_not_found' });
  });

  it('serializes concurrent changes of one key and commits each exactly once', async () => {
    const account = await session.keys.createAccount('Delta', operator);
    const { state } = await session.keys.createKey({ accountId: account.accountId, keyType: 'proxy', name: 'n0', expiresAt: null }, operator);
    const keyId = state.keyId;
    await Promise.all(Array.from({ length: 10 }, (_, i) => session.keys.changeKey(keyId, null, (_s, now) => [{ type: 'RenameKey', keyId, name: `n${i + 1}`, now }], operator)));
    const stream = await readStream(session.db, keyStreamId(keyId));
    expect(stream.map((e) => e.streamVersion)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    const { row, folded } = await lookupAndFold(keyId);
    expect(row).toEqual(folded);
  });
});
