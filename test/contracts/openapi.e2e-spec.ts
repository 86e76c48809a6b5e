import { createTestContext, type TestContext } from '@keys/testing';
import { apiClient, openKeyService, operator, type RunningCommandApp, startCommandApp } from '../fixtures/command-app.fixture';
import { OpenApiContract } from './openapi-contract';

// The served OpenAPI document: complete for the routes (ids, responses, parameters, headers), and the checker
// that apiClient runs on every response fails a response that differs from it.

describe('OpenAPI document and contract checker', () => {
  let ctx: TestContext;
  let command: RunningCommandApp;
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let contract: OpenApiContract;
  let billingKey: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    command = await startCommandApp(ctx, { runExpirySweep: false });
    store = await openKeyService(ctx);
    billingKey = (await store.keys.createAccount('Acme', operator)).billingKey.key;
    contract = (await OpenApiContract.fetch(command.baseUrl))!;
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await command?.close();
    await store?.close();
    await ctx?.dispose();
  });

  it('names every operation readably, one id per method and key type', () => {
    const ids = Object.entries(contract.document.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => `${method.toUpperCase()} ${path} ${op.operationId}`));
    expect(ids.sort()).toEqual(
      [
        'GET /api/keys listKeys',
        'POST /api/keys createKey',
        'GET /api/keys/{id} getKey',
        'PUT /api/keys/{id} updateKey',
        'PATCH /api/keys/{id} patchKey',
        'DELETE /api/keys/{id} deleteKey',
        'POST /api/keys/{id}/roll rollKey',
        'GET /api/billing-keys listBillingKeys',
        'POST /api/billing-keys createBillingKey',
        'GET /api/billing-keys/{id} getBillingKey',
        'PUT /api/billing-keys/{id} updateBillingKey',
        'PATCH /api/billing-keys/{id} patchBillingKey',
        'DELETE /api/billing-keys/{id} deleteBillingKey',
        'POST /api/billing-keys/{id}/roll rollBillingKey',
        'GET /api/security-log listSecurityLog',
        'POST /api/secret-scanning/alerts reportLeakedKeys',
        'GET /health getHealth',
        'GET /health/ready getReadiness',
        'GET /metrics getMetrics',
      ].sort(),
    );
  });

  it('documents the errors of every /api route with the shared error body, and the paging and header parameters', () => {
    const doc = contract.document as any;
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      if (!path.startsWith('/api/')) continue;
      for (const op of Object.values<any>(item)) {
        // The secret-scanning route has no billing key, so no key checks that could answer 403.
        const statuses = op.operationId === 'reportLeakedKeys' ? ['400', '401', '413', '415', '429', '503'] : ['400', '401', '403', '413', '415', '429', '503'];
        for (const status of statuses) {
          expect([op.operationId, status, op.responses[status]?.content['application/json'].schema.allOf[0].$ref]).toEqual([op.operationId, status, '#/components/schemas/ApiErrorBodySchema']);
        }
        expect(Object.keys(op.responses['429'].headers)).toContain('Retry-After');
        expect(op.parameters.map((p: any) => p.name)).toContain('X-Request-Id');
      }
    }
    const alerts = doc.paths['/api/secret-scanning/alerts'].post;
    expect(alerts.responses['401'].content['application/json'].schema.allOf[1].properties.error.properties.code.enum).toEqual(['invalid_signature']);
    expect(alerts.parameters.map((p: any) => p.name)).toEqual(expect.arrayContaining(['Github-Public-Key-Identifier', 'Github-Public-Key-Signature']));
    const log = doc.paths['/api/security-log'].get;
    expect(log.parameters.find((p: any) => p.name === 'limit').schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 50 });
    expect(log.parameters.find((p: any) => p.name === 'before').schema).toMatchObject({ type: 'integer', minimum: 1 });
    expect(doc.paths['/api/keys/{id}/roll'].post.requestBody.required).toBe(false);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: expect.stringMatching(/^mk-/) });
  });

  it('accepts real responses and names route, status and the ajv error for one that differs', async () => {
    const api = apiClient(command.baseUrl, billingKey);
    const created = await api.post('/api/keys', { name: 'Production' });
    expect(created.status).toBe(201);
    const observed = { method: 'POST', path: '/api/keys', status: 201, headers: created.headers, body: created.body };
    expect(contract.check(observed)).toBeNull();

    expect(contract.check({ ...observed, body: { ...created.body, id: String(created.body.id) } })).toMatch(/^POST \/api\/keys \(createKey\) 201: .*\/id must be integer/);
    expect(contract.check({ ...observed, body: { ...created.body, hash: 'x' } })).toMatch(/must NOT have additional properties/);
    expect(contract.check({ ...observed, status: 418 })).toMatch(/status 418 is not documented/);
    const conflict = { error: { message: 'x', type: 'conflict_error', code: 'key_not_found' } };
    expect(contract.check({ ...observed, status: 409, body: conflict })).toMatch(/409: .*\/error\/code must be equal to one of the allowed values/);
    const headers = new Headers(created.headers);
    headers.set('X-Keys-Position', 'soon');
    expect(contract.check({ ...observed, headers })).toMatch(/header x-keys-position/);
    headers.delete('X-Keys-Position');
    headers.set('X-Keys-Surprise', '1');
    expect(contract.check({ ...observed, headers })).toMatch(/header x-keys-surprise is not documented/);
  });

  it('makes apiClient fail a test whose response differs from the document', async () => {
    const api = apiClient(command.baseUrl, billingKey);
    // The first call loads the document; then the server's answer is replaced by one the document does not allow.
    expect((await api.post('/api/keys', { name: 'first' })).status).toBe(201);
    const realFetch = global.fetch;
    jest.spyOn(global, 'fetch').mockImplementation(async (input, init) => {
      const res = await realFetch(input, init);
      const body = (await res.json()) as Record<string, unknown>;
      return new Response(JSON.stringify({ ...body, active: 'yes' }), { status: res.status, headers: res.headers });
    });
    try {
      await expect(api.post('/api/keys', { name: 'second' })).rejects.toThrow(/POST \/api\/keys \(createKey\) 201: .*\/active must be boolean/);
    } finally {
      jest.restoreAllMocks();
    }
  });
});
