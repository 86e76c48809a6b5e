import { Controller, Get, type INestApplication, Param } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { DOMAIN_ERROR_CODES, DomainError, type DomainErrorCode } from '@keys/domain';
import { ConcurrentUpdateError } from '@keys/key-service';
import { ApiError, configureHttpApp } from '@keys/platform';
import { DomainErrorFilter } from './domain-error.mapper';

// The error table of docs/api.md, as the handlers' refusals reach the client (status, type, code, param).
const TABLE: Record<DomainErrorCode, [number, string, string, string?]> = {
  key_not_found: [404, 'not_found_error', 'key_not_found'],
  key_exists: [409, 'conflict_error', 'key_exists'],
  key_deleted: [409, 'conflict_error', 'key_deleted'],
  key_expired: [409, 'conflict_error', 'key_expired'],
  key_revoked: [409, 'conflict_error', 'key_revoked'],
  expiry_not_in_future: [400, 'invalid_request_error', 'validation_failed', 'expires_at'],
  expiry_not_reached: [409, 'conflict_error', 'expiry_not_reached'],
  invalid_name: [400, 'invalid_request_error', 'validation_failed', 'name'],
  account_exists: [409, 'conflict_error', 'account_exists'],
  last_billing_key: [409, 'conflict_error', 'last_billing_key'],
};

@Controller('throw')
class ThrowingController {
  @Get(':what')
  throw(@Param('what') what: string): never {
    if (what === 'concurrent') throw new ConcurrentUpdateError('key-1');
    if (what === 'api') throw ApiError.conflict('key_exists', 'as thrown');
    if (what === 'other') throw new Error('boom');
    throw new DomainError(what as DomainErrorCode, `domain says ${what}`);
  }
}

describe('DomainErrorFilter', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const module = await Test.createTestingModule({ controllers: [ThrowingController] }).compile();
    app = module.createNestApplication({ bodyParser: false, logger: false });
    // The order of createCommandApp: the catch-all first, then the domain filter.
    configureHttpApp(app);
    app.useGlobalFilters(new DomainErrorFilter());
    await app.init();
  });
  afterAll(() => app?.close());

  it.each(DOMAIN_ERROR_CODES.map((code) => [code]))('answers %s with its row of the error table', async (code) => {
    const [status, type, apiCode, param] = TABLE[code];
    const res = await request(app.getHttpServer()).get(`/throw/${code}`);
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ error: { type, code: apiCode, message: expect.any(String), ...(param ? { param } : {}) } });
  });

  it('keeps the domain message where the table passes it through, and our own sentence where it does not', async () => {
    expect((await request(app.getHttpServer()).get('/throw/invalid_name')).body.error.message).toBe('domain says invalid_name');
    expect((await request(app.getHttpServer()).get('/throw/key_deleted')).body.error.message).toBe('The key is deleted; it accepts no change.');
    expect((await request(app.getHttpServer()).get('/throw/key_not_found')).body.error.message).toBe('No such key in this account.');
  });

  it('answers a concurrent update 409 concurrent_update without its stream id', async () => {
    const res = await request(app.getHttpServer()).get('/throw/concurrent');
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: { type: 'conflict_error', code: 'concurrent_update', message: 'The key was changed concurrently; retry the request.' } });
  });

  it('leaves every other error to the catch-all filter', async () => {
    expect((await request(app.getHttpServer()).get('/throw/api')).body).toEqual({ error: { type: 'conflict_error', code: 'key_exists', message: 'as thrown' } });
    const other = await request(app.getHttpServer()).get('/throw/other');
    expect(other.status).toBe(500);
    expect(other.body.error.code).toBe('internal_error');
  });
});
