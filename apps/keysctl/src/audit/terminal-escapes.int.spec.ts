import { randomUUID } from 'node:crypto';
import { appendToStream, readStream } from '@keys/event-store';
import type { RequestContext } from '@keys/key-service';
import { createTestContext, type TestContext } from '@keys/testing';
import { openKeyService } from '../../../../test/fixtures/command-app.fixture';
import { runKeysctl } from './run-keysctl.spec-helper';

const alice: RequestContext = { actor: { type: 'operator', name: 'alice' }, ipAddress: null, userAgent: 'keysctl', correlationId: randomUUID() };
// Retitles the terminal window and rings the bell; clears the screen; 8-bit CSI; right-to-left override.
const EVIL_NAME = 'prod\u001b]0;pwned\u0007 key\u001b[2J\u009b31m\u202Egnp.exe';
const EVIL_OPERATOR = 'bob\u001b[1A\u001b[2K';
// eslint-disable-next-line no-control-regex -- control characters are exactly what is looked for
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('keysctl audit output and stored names with terminal escapes', () => {
  let ctx: TestContext;
  let service: Awaited<ReturnType<typeof openKeyService>>;
  let env: Record<string, string>;
  let accountId: number;
  let keyId: number;

  beforeAll(async () => {
    ctx = await createTestContext();
    env = { DATABASE_URL: ctx.databaseUrl };
    service = await openKeyService(ctx);
    accountId = (await service.keys.createAccount('Acme', alice)).accountId;
    keyId = (await service.keys.createKey({ accountId, keyType: 'proxy', name: 'plain', expiresAt: null }, alice)).state.keyId;
    // Written below the domain rule that refuses such names today: a store may hold them from before it, or
    // from a writer that skipped it.
    const version = (await readStream(service.db as never, `key-${keyId}`)).length;
    await service.db.transaction().execute((trx) =>
      appendToStream(trx as never, {
        streamId: `key-${keyId}`,
        expectedVersion: version,
        accountId,
        events: [
          {
            type: 'KeyRenamed',
            data: { keyId, name: EVIL_NAME },
            metadata: { actor: { type: 'operator', name: EVIL_OPERATOR }, ipAddress: null, userAgent: 'x\u0007', correlationId: randomUUID() },
          },
        ] as never,
      }),
    );
  });

  afterAll(async () => {
    await service?.close();
    await ctx?.dispose();
  });

  it('audit history shows the name and the actor escaped, with no raw control character', async () => {
    const run = await runKeysctl(['audit', 'history', '--key', String(keyId)], env);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(RAW_CONTROL);
    expect(run.stdout).toContain('\\u001b]0;pwned\\u0007');
    expect(run.stdout).toContain('\\u001b[2J');
    expect(run.stdout).toContain('\\u202e');
    expect(run.stdout).toContain('operator bob\\u001b[1A\\u001b[2K');
  });

  it('audit state shows the name escaped, with no raw control character', async () => {
    const run = await runKeysctl(['audit', 'state', '--account', String(accountId), '--as-of', new Date().toISOString()], env);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(RAW_CONTROL);
    expect(run.stdout).toContain('prod\\u001b]0;pwned\\u0007 key\\u001b[2J\\u009b31m\\u202egnp.exe');
  });

  it('--json keeps the exact name for machines, JSON-escaped, with no raw control character', async () => {
    const state = await runKeysctl(['audit', 'state', '--account', String(accountId), '--as-of', new Date().toISOString(), '--json'], env);
    expect(state.stdout).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(state.stdout).keys.find((k: { id: number }) => k.id === keyId).name).toBe(EVIL_NAME);
    const history = await runKeysctl(['audit', 'history', '--key', String(keyId), '--json'], env);
    expect(history.stdout).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(history.stdout).at(-1).data.name).toBe(EVIL_NAME);
  });
});
