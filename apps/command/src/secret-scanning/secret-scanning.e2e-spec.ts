import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { createTestContext, type TestContext } from '@keys/testing';
import { createProjectorApp } from '../../../projector/src/main';
import { readProjectorConfig } from '../../../projector/src/projector.config';
import { generateKey } from '@keys/key-material';
import { type KeyServiceSession } from '@keys/key-service';
import { type RunningCommandApp, apiClient, openKeyService, operator, startCommandApp } from '../../../../test/fixtures/command-app.fixture';
import { type RunningVerifierApp, type VerifyClient, startVerifierApp, verifyClient } from '../../../../test/fixtures/verifier-app.fixture';

// GitHub's secret-scanning partner endpoint, driven as GitHub drives it: ECDSA P-256 signatures over the raw
// body with a key pair made here, its public key in the file SECRET_SCANNING_PUBLIC_KEYS_FILE names.
describe('POST /api/secret-scanning/alerts', () => {
  const PATH = '/api/secret-scanning/alerts';
  const KEY_ID = 'f'.repeat(64);
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const stranger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  let ctx: TestContext;
  let dir: string;
  let command: RunningCommandApp;
  let verifier: RunningVerifierApp;
  let client: VerifyClient;
  let store: KeyServiceSession;
  let projector: INestApplication;

  const signed = (body: string, privateKey = pair.privateKey, identifier = KEY_ID): Record<string, string> => ({
    'Github-Public-Key-Identifier': identifier,
    'Github-Public-Key-Signature': sign('sha256', Buffer.from(body), { key: privateKey, dsaEncoding: 'der' }).toString('base64'),
  });
  const report = (tokens: string[]) => JSON.stringify(tokens.map((token) => ({ token, type: 'keys_api_key', url: 'https://github.com/octo/repo/blob/abc/.env', source: 'content' })));
  const sha = (token: string) => createHash('sha256').update(token).digest('hex');
  const gh = () => apiClient(command.baseUrl);

  beforeAll(async () => {
    ctx = await createTestContext();
    dir = mkdtempSync(join(tmpdir(), 'gh-keys-'));
    const file = join(dir, 'secret_scanning.json');
    const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    writeFileSync(file, JSON.stringify({ public_keys: [{ key_identifier: KEY_ID, key: pem, is_current: true }] }));
    command = await startCommandApp(ctx, { secretScanningPublicKeysFile: file, runExpirySweep: false });
    store = await openKeyService(ctx);
    // The owner's view (key object, security log) comes from the read models.
    projector = await createProjectorApp(
      readProjectorConfig({ DATABASE_URL: ctx.databaseUrl, NATS_URL: ctx.natsUrl, KEYS_STREAM: ctx.streamName, KEYS_SUBJECT_PREFIX: ctx.subjectPrefix }),
      { quiet: true },
    );
    await projector.init();
    verifier = await startVerifierApp(ctx);
    await verifier.serving();
    client = await verifyClient(ctx);
  });
  afterAll(async () => {
    await client?.close();
    await verifier?.close();
    await store?.close();
    await projector?.close();
    await command?.close();
    await ctx?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('revokes live keys of any account and labels every report; the verifier answers REVOKED at once', async () => {
    const a = await store.keys.createAccount('A', operator);
    const b = await store.keys.createAccount('B', operator);
    const live = await store.keys.createKey({ accountId: a.accountId, keyType: 'proxy', name: 'leaky', expiresAt: null }, operator);
    const other = await store.keys.createKey({ accountId: b.accountId, keyType: 'proxy', name: 'elsewhere', expiresAt: null }, operator);
    const gone = await store.keys.createKey({ accountId: a.accountId, keyType: 'proxy', name: 'gone', expiresAt: null }, operator);
    await store.keys.changeKey(gone.state.keyId, null, (_s, now) => [{ type: 'DeleteKey', keyId: gone.state.keyId, now }], operator);
    const unknown = generateKey('proxy').key;
    const malformed = `${live.key.slice(0, -1)}x`;
    const tokens = [live.key, gone.key, malformed, unknown, other.key, a.billingKey.key, live.key];
    const body = report(tokens);

    const res = await gh().post(PATH, body, signed(body));
    expect(res.status).toBe(200);
    expect(res.body).toEqual(
      tokens.map((t, i) => ({ token_hash: sha(t), token_type: 'keys_api_key', label: [0, 4, 5, 6].includes(i) ? 'true_positive' : 'false_positive' })),
    );
    expect(res.headers.get('x-keys-propagation')).toBe('confirmed');
    expect(JSON.stringify(res.body)).not.toContain(live.key);
    // The answer came after every serving verifier applied it: refused at once, even the account's last billing key.
    expect((await client.verify(live.key, 'proxy')).code).toBe('REVOKED');
    expect((await client.verify(other.key, 'proxy')).code).toBe('REVOKED');
    expect((await client.verify(a.billingKey.key, 'billing')).code).toBe('REVOKED');
    expect((await client.verify(gone.key, 'proxy')).code).toBe('DELETED');

    // GitHub retries: the same labels, nothing new appended.
    const again = await gh().post(PATH, body, signed(body));
    expect(again.status).toBe(200);
    expect(again.body).toEqual(res.body);
    expect(again.headers.get('x-keys-position')).toBeNull();

    // The owner sees it: the key object (visible, inactive) and its security log (through account B's new billing key).
    const ownerB = await store.keys.createKey({ accountId: b.accountId, keyType: 'billing', name: 'after the leak', expiresAt: null }, operator);
    const api = apiClient(command.baseUrl, ownerB.key);
    const key = await api.get(`/api/keys/${other.state.keyId}`);
    expect(key.status).toBe(200);
    expect(key.body).toMatchObject({ active: false, revokedReason: 'leaked', revokedAt: expect.any(String), revokedFoundAt: 'https://github.com/octo/repo/blob/abc/.env' });
    const log = await api.get('/api/security-log');
    expect(log.body.logs.find((l: { action: string }) => l.action === 'key_revoked')).toMatchObject({
      details: { keyId: other.state.keyId, reason: 'leaked', foundAt: 'https://github.com/octo/repo/blob/abc/.env', actor: { type: 'system', name: 'secret-scanning' } },
    });
    // A revoked key cannot be brought back.
    const reactivate = await api.patch(`/api/keys/${other.state.keyId}`, { active: true });
    expect(reactivate.status).toBe(409);
    expect(reactivate.body.error.code).toBe('key_revoked');
    const roll = await api.post(`/api/keys/${other.state.keyId}/roll`, {});
    expect(roll.body.error.code).toBe('key_revoked');
  });

  it('refuses unsigned, tampered, foreign-signed and unknown-identifier alerts with 401, changing nothing', async () => {
    const account = await store.keys.createAccount('C', operator);
    const victim = await store.keys.createKey({ accountId: account.accountId, keyType: 'proxy', name: 'victim', expiresAt: null }, operator);
    const body = report([victim.key]);
    const tampered = report([victim.key]).replace('.env', '.txt');
    const attempts: Array<[string, Record<string, string>]> = [
      [body, {}],
      [tampered, signed(body)],
      [body, signed(body, stranger.privateKey)],
      [body, signed(body, pair.privateKey, 'e'.repeat(64))],
      [body, { ...signed(body), 'Github-Public-Key-Signature': 'not base64 DER' }],
    ];
    for (const [payload, headers] of attempts) {
      const res = await gh().post(PATH, payload, headers);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: { type: 'authentication_error', code: 'invalid_signature', message: expect.any(String) } });
    }
    expect((await client.verify(victim.key, 'proxy')).code).toBe('VALID');
  });

  it('answers a batch of 1,000 tokens', async () => {
    const account = await store.keys.createAccount('D', operator);
    const issued = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.keys.createKey({ accountId: account.accountId, keyType: 'proxy', name: `k${i}`, expiresAt: null }, operator)),
    );
    const tokens = [...issued.map((k) => k.key), ...Array.from({ length: 980 }, () => generateKey('proxy').key)];
    const body = report(tokens);
    expect(Buffer.byteLength(body)).toBeGreaterThan(16 * 1024);
    const res = await gh().post(PATH, body, signed(body));
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1000);
    expect(res.body.filter((l: { label: string }) => l.label === 'true_positive')).toHaveLength(20);
    expect((await client.verify(issued[19].key, 'proxy')).code).toBe('REVOKED');
    // 1,001 is over the bound.
    const over = report([...tokens, tokens[0]]);
    expect((await gh().post(PATH, over, signed(over))).status).toBe(400);
  }, 60_000);

  it('keeps the 16 KiB limit on other routes, and answers 404 when no key file is configured', async () => {
    const account = await store.keys.createAccount('E', operator);
    const big = await apiClient(command.baseUrl, account.billingKey.key).post('/api/keys', { name: 'x', pad: 'y'.repeat(20_000) });
    expect(big.status).toBe(413);
    const bare = await startCommandApp(ctx, { runRelay: false, runExpirySweep: false });
    try {
      const body = report(['x']);
      const res = await apiClient(bare.baseUrl).post(PATH, body, signed(body));
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('route_not_found');
    } finally {
      await bare.close();
    }
  });
});

describe('signature failures are rate limited per IP', () => {
  it('answers 429 with Retry-After once the bucket is empty', async () => {
    const ctx = await createTestContext();
    const dir = mkdtempSync(join(tmpdir(), 'gh-keys-'));
    const file = join(dir, 'keys.json');
    const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    writeFileSync(file, JSON.stringify({ public_keys: [{ key_identifier: 'k', key: pem, is_current: true }] }));
    const app = await startCommandApp(ctx, { secretScanningPublicKeysFile: file, authFailuresPerMinute: 60, authFailureBurst: 2, runExpirySweep: false });
    try {
      const api = apiClient(app.baseUrl);
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await api.post('/api/secret-scanning/alerts', '[]', { 'Github-Public-Key-Identifier': 'k', 'Github-Public-Key-Signature': 'AAAA' })).status);
      expect(statuses).toEqual([401, 401, 429]);
    } finally {
      await app.close();
      await ctx.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
