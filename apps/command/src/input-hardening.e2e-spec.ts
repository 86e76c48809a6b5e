import { connect } from 'node:net';
import { randomUUID } from 'node:crypto';
import { EventAppender, readStream } from '@keys/event-store';
import { createTestContext, type TestContext } from '@keys/testing';
import { sql } from 'kysely';
import { apiClient, openKeyService, operator, startCommandApp, type RunningCommandApp } from '../../../test/fixtures/command-app.fixture';

// Attacks on the write path (docs/security.md, http-input and group-commit): values that used to pass validation
// and then made Postgres refuse a statement shared with other tenants' writes, or made `new Date()` throw (500).

describe('command input hardening', () => {
  let ctx: TestContext;
  let running: RunningCommandApp;
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let api: ReturnType<typeof apiClient>;
  let accountA: number;
  let keyOfB: string;
  let billingKey: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    running = await startCommandApp(ctx);
    store = await openKeyService(ctx);
    const a = await store.keys.createAccount('Tenant A', operator);
    accountA = a.accountId;
    billingKey = a.billingKey.key;
    api = apiClient(running.baseUrl, a.billingKey.key);
    keyOfB = (await store.keys.createAccount('Tenant B', operator)).billingKey.key;
  });
  afterAll(async () => {
    await running?.close();
    await store?.close();
    await ctx?.dispose();
  });

  const expectValidation = (res: { status: number; body: any }, param: string) => {
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { type: 'invalid_request_error', code: 'validation_failed', message: expect.any(String), param } });
  };

  describe('names', () => {
    const refused: Array<[string, string]> = [
      ['NUL', 'a\u0000b'],
      ['a lone surrogate', 'a\ud800'],
      ['a C0 control', 'x\u0007'],
      ['a C1 control', 'x\u0085y'],
      ['a right-to-left override', 'invoice\u202Efdp.exe'],
      ['an isolate', 'x\u2066y'],
      ['only a zero-width space', '\u200B'],
      ['only format characters and whitespace', ' \u200D\u2060 '],
    ];

    it.each(refused)('refuses %s in POST /api/keys and /api/billing-keys with 400 naming name', async (_label, name) => {
      expectValidation(await api.post('/api/keys', { name }), 'name');
      expectValidation(await api.post('/api/billing-keys', { name }), 'name');
    });

    it.each(refused)('refuses %s in PUT and PATCH with 400 naming name, and renames nothing', async (_label, name) => {
      const created = await api.post('/api/keys', { name: 'Before' });
      expectValidation(await api.put(`/api/keys/${created.body.id}`, { name }), 'name');
      expectValidation(await api.patch(`/api/keys/${created.body.id}`, { name, active: false }), 'name');
      expect((await readStream(store.db as never, `key-${created.body.id}`)).map((e) => e.type)).toEqual(['KeyCreated']);
    });

    it('stores names NFC-normalized', async () => {
      const created = await api.post('/api/keys', { name: 'Cafe\u0301' });
      expect(created.body.name).toBe('Caf\u00e9');
      const renamed = await api.patch(`/api/keys/${created.body.id}`, { name: 'Re\u0301sume\u0301 👩‍💻' });
      expect(renamed.body.name).toBe('R\u00e9sum\u00e9 👩‍💻');
    });
  });

  describe('expiry', () => {
    it.each([
      ['an ISO week date', '2030-W01-1'],
      ['an ordinal date', '2030-123'],
      ['the basic format', '20300101T000000Z'],
      ['a date without a time', '2030-01-01'],
      ['a day that does not exist', '2030-02-30T00:00:00Z'],
      ['hour 24', '2030-01-01T24:00:00Z'],
      ['a leap second', '2030-06-30T23:59:60Z'],
      ['no offset', '2030-01-01T00:00:00'],
      ['an offset beyond 23:59', '2030-01-01T00:00:00+24:00'],
      ['a space for T', '2030-01-01 00:00:00Z'],
      ['a six-digit year', '+275760-09-13T00:00:00Z'],
      ['a year beyond JavaScript dates', '+999999-01-01T00:00:00Z'],
      ['a very long fraction', `2030-01-01T00:00:00.${'1'.repeat(2000)}Z`],
    ])('refuses %s with 400 naming the field', async (_label, value) => {
      expectValidation(await api.post('/api/keys', { name: 'x', expires_at: value }), 'expires_at');
      expectValidation(await api.post('/api/keys', { name: 'x', expiresAt: value }), 'expiresAt');
      const created = await api.post('/api/keys', { name: 'x' });
      expectValidation(await api.put(`/api/keys/${created.body.id}`, { expires_at: value }), 'expires_at');
      expectValidation(await api.patch(`/api/keys/${created.body.id}`, { expiresAt: value }), 'expiresAt');
    });

    it.each([
      ['UTC', '2030-01-01T00:00:00Z', '2030-01-01T00:00:00.000Z'],
      ['an offset and a fraction', '2030-01-01T00:00:00.123+02:00', '2029-12-31T22:00:00.123Z'],
      ['lowercase t and z (RFC 3339 5.6)', '2030-01-01t00:00:00z', '2030-01-01T00:00:00.000Z'],
      ['more than millisecond precision (truncated)', '2030-01-01T00:00:00.123456789Z', '2030-01-01T00:00:00.123Z'],
      ['a leap day', '2032-02-29T12:00:00-00:00', '2032-02-29T12:00:00.000Z'],
      ['the last representable year', '9999-12-31T23:59:59Z', '9999-12-31T23:59:59.000Z'],
    ])('accepts %s', async (_label, value, stored) => {
      const res = await api.post('/api/keys', { name: 'x', expires_at: value });
      expect(res.status).toBe(201);
      expect(res.body.expiresAt).toBe(stored);
    });
  });

  it('keeps control characters of the User-Agent out of event metadata', async () => {
    // fetch refuses to send such a header, so the request is written by hand.
    const url = new URL(running.baseUrl);
    const body = JSON.stringify({ name: 'raw' });
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          Buffer.concat([
            Buffer.from(`POST /api/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${billingKey}\r\nContent-Type: application/json\r\n`),
            Buffer.from('User-Agent: ua\x01\x7f\xff\xfe\r\n', 'latin1'),
            Buffer.from(`Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`),
          ]),
        );
      });
      let text = '';
      socket.on('data', (d) => (text += d.toString('latin1')));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    const status = Number(raw.split(' ')[1]);
    expect(status).toBeLessThan(500);
    if (status === 201) {
      const id = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).id as number;
      const [created] = await readStream(store.db as never, `key-${id}`);
      expect(created.metadata.userAgent).not.toMatch(/\p{Cc}/u);
    }
  });

  it("one tenant's appends that Postgres refuses never fail another tenant's writes in the same group commit", async () => {
    const appender = running.app.get(EventAppender);
    const { rows } = await sql<{ hash: string }>`select hash from key_lookup where account_id = ${accountA} limit 1`.execute(store.db as never);
    const takenHash = rows[0].hash;
    const metadata = { actor: { type: 'operator' as const, name: 'poison' }, ipAddress: null, userAgent: null, correlationId: randomUUID() };
    let n = 0;
    // Straight to the app's own appender: HTTP validation now refuses these values before they get this far.
    const poison = () => {
      const keyId = 900_000_000 + n++;
      const event = { type: 'KeyRenamed' as const, data: { keyId, name: `p${n}` }, metadata };
      const variants = [
        () => appender.append({ streamId: `key-${keyId}`, expectedVersion: 0, accountId: accountA, events: [{ ...event, data: { keyId, name: 'a\u0000b' } }] }),
        () => appender.append({ streamId: `key-${keyId}`, expectedVersion: 0, accountId: accountA, events: [{ ...event, occurredAt: '-005000-01-01T00:00:00.000Z' }] }),
        // A KeyCreated whose hash is taken: the app's key_lookup projection hits the unique index.
        () =>
          appender.append({
            streamId: `key-${keyId}`,
            expectedVersion: 0,
            accountId: accountA,
            events: [{ type: 'KeyCreated', data: { keyId, accountId: accountA, keyType: 'proxy', name: 'p', prefix: 'ms-xxxxx', hash: takenHash, expiresAt: null }, metadata }],
          }),
      ];
      return variants[n % variants.length]();
    };

    const apiB = apiClient(running.baseUrl, keyOfB);
    const poisons: Array<Promise<unknown>> = [];
    const timer = setInterval(() => poisons.push(poison().then(() => 'fulfilled', () => 'rejected')), 1);
    const creates = await Promise.all(Array.from({ length: 300 }, (_, i) => apiB.post('/api/keys', { name: `b-${i}` })));
    clearInterval(timer);
    const poisonResults = await Promise.all(poisons);

    expect(creates.filter((r) => r.status !== 201).map((r) => [r.status, r.body])).toEqual([]);
    expect(poisonResults.length).toBeGreaterThan(0);
    expect(poisonResults.every((r) => r === 'rejected')).toBe(true);
  });
});
