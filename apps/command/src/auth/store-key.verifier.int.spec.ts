import { type Verdict } from '@keys/domain';
import { type KeyServiceSession, type RequestContext, openKeyService } from '@keys/key-service';
import { type ReadModelDatabase, projectFromStore } from '@keys/read-models';
import { generateKey } from '@keys/key-material';
import { createTestContext, type TestContext } from '@keys/testing';
import type { Kysely } from 'kysely';
import { BillingKeyUsage } from './billing-key-usage';
import { StoreKeyVerifier } from './store-key.verifier';

const operator: RequestContext = { actor: { type: 'operator', name: 'test' }, ipAddress: null, userAgent: 'jest', correlationId: 'corr' };

// Billing-key authentication from the command's own key_lookup, batched: every verdict the pure judgeKey gives,
// a change refused from the moment it commits, and concurrent requests answered each with its own key's verdict.
describe('StoreKeyVerifier', () => {
  let ctx: TestContext;
  let session: KeyServiceSession;
  let accountId: number;
  let billingKey: string;
  const used: Array<[number, number]> = [];
  let verifier: StoreKeyVerifier;

  beforeAll(async () => {
    ctx = await createTestContext();
    session = await openKeyService(ctx.databaseUrl);
    const account = await session.keys.createAccount('Acme', operator);
    accountId = account.accountId;
    billingKey = account.billingKey.key;
    verifier = new StoreKeyVerifier(session.db, (verdict, nowMs) => used.push([verdict.key.id, nowMs]));
  });

  afterAll(async () => {
    await session?.close();
    await ctx?.dispose();
  });

  const create = (keyType: 'billing' | 'proxy', expiresAt: string | null = null) => session.keys.createKey({ accountId, keyType, name: 'k', expiresAt }, operator);
  const change = (keyId: number, type: 'DeactivateKey' | 'DeleteKey' | 'RevokeKey') =>
    session.keys.changeKey(keyId, null, (_state, now) => [type === 'RevokeKey' ? { type, keyId, reason: 'operator', now } : { type, keyId, now }] as never, operator);

  it('answers VALID with the key, and reports the use', async () => {
    used.length = 0;
    const verdict = await verifier.verify(billingKey, 'billing');
    expect(verdict).toMatchObject({ valid: true, code: 'VALID', key: { accountId, type: 'billing' } });
    expect(used).toEqual([[(verdict as Extract<Verdict, { valid: true }>).key.id, expect.any(Number)]]);
  });

  it('refuses malformed, unknown and wrong-type keys without reporting a use', async () => {
    used.length = 0;
    const proxy = await create('proxy');
    expect((await verifier.verify('mk-not-a-key', 'billing')).code).toBe('MALFORMED');
    expect((await verifier.verify(generateKey('billing').key, 'billing')).code).toBe('NOT_FOUND');
    expect((await verifier.verify(proxy.key, 'billing')).code).toBe('WRONG_TYPE');
    expect(used).toEqual([]);
  });

  it('refuses a key from the moment its deactivation, revocation or deletion commits', async () => {
    const [a, b, c] = [await create('billing'), await create('billing'), await create('billing')];
    for (const key of [a, b, c]) expect((await verifier.verify(key.key, 'billing')).code).toBe('VALID');
    await change(a.state.keyId, 'DeactivateKey');
    expect((await verifier.verify(a.key, 'billing')).code).toBe('INACTIVE');
    await change(b.state.keyId, 'RevokeKey');
    expect((await verifier.verify(b.key, 'billing')).code).toBe('REVOKED');
    await change(c.state.keyId, 'DeleteKey');
    expect((await verifier.verify(c.key, 'billing')).code).toBe('DELETED');
  });

  it('refuses a key past its expiry', async () => {
    const soon = await create('billing', new Date(Date.now() + 300).toISOString());
    expect((await verifier.verify(soon.key, 'billing')).code).toBe('VALID');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await verifier.verify(soon.key, 'billing')).code).toBe('EXPIRED');
  });

  it('answers concurrent requests, batched, each with its own key\'s verdict', async () => {
    const live = await Promise.all(Array.from({ length: 20 }, () => create('billing')));
    const dead = await Promise.all(Array.from({ length: 20 }, () => create('billing')));
    for (const key of dead) await change(key.state.keyId, 'DeleteKey');
    const asked = [...live.map((k) => ({ k, expect: 'VALID' })), ...dead.map((k) => ({ k, expect: 'DELETED' }))].sort(() => Math.random() - 0.5);
    const verdicts = await Promise.all(asked.map(({ k }) => verifier.verify(k.key, 'billing')));
    expect(verdicts.map((v) => v.code)).toEqual(asked.map((a) => a.expect));
    verdicts.forEach((v, i) => {
      if (v.valid) expect(v.key.id).toBe(asked[i].k.state.keyId);
    });
  });

  it('rejects every waiting request when the store cannot be read (the guard answers 503)', async () => {
    const closed = await openKeyService(ctx.databaseUrl);
    await closed.close();
    const broken = new StoreKeyVerifier(closed.db);
    await expect(Promise.all([broken.verify(billingKey, 'billing'), broken.verify(billingKey, 'billing')])).rejects.toThrow();
  });

  it('BillingKeyUsage raises key_usage to the last use, never lowers it', async () => {
    const usage = new BillingKeyUsage(session.db as unknown as Kysely<ReadModelDatabase>, 60_000);
    const key = await create('billing');
    // key_usage rows exist only for keys the read models know: project the store as the projector would.
    await projectFromStore(session.db as unknown as Kysely<ReadModelDatabase>, 1000);
    const lastUsed = async () =>
      (await (session.db as unknown as Kysely<ReadModelDatabase>).selectFrom('key_usage').select('last_used_at').where('key_id', '=', key.state.keyId).executeTakeFirst())?.last_used_at ?? null;
    const t = Date.now() - 10_000;
    usage.record(key.state.keyId, t);
    usage.record(key.state.keyId, t - 5000);
    await usage.flush();
    expect((await lastUsed())?.getTime()).toBe(t);
    usage.record(key.state.keyId, t - 1000);
    await usage.stop();
    expect((await lastUsed())?.getTime()).toBe(t);
  });
});
