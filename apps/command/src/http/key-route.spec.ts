import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import type { KeyType } from '@keys/domain';
import { configureHttpApp } from '@keys/platform';
import { KeyRoute, RouteKeyType } from './key-route';

@Controller()
abstract class EchoHttpController {
  @Get(':id')
  echo(@RouteKeyType() keyType: KeyType): { keyType: KeyType } {
    return { keyType };
  }
}

@KeyRoute('proxy')
class EchoProxyHttpController extends EchoHttpController {}

@KeyRoute('billing')
class EchoBillingHttpController extends EchoHttpController {}

@Controller('unbound')
class UnboundHttpController extends EchoHttpController {}

describe('@KeyRoute', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const module = await Test.createTestingModule({ controllers: [EchoProxyHttpController, EchoBillingHttpController, UnboundHttpController] }).compile();
    app = module.createNestApplication({ bodyParser: false, logger: false });
    configureHttpApp(app);
    await app.init();
  });
  afterAll(() => app?.close());

  it('mounts each subclass under its key type and hands the handler that type', async () => {
    expect((await request(app.getHttpServer()).get('/api/keys/1')).body).toEqual({ keyType: 'proxy' });
    expect((await request(app.getHttpServer()).get('/api/billing-keys/1')).body).toEqual({ keyType: 'billing' });
  });

  it('refuses to guess a type for a controller mounted without it', async () => {
    expect((await request(app.getHttpServer()).get('/unbound/1')).status).toBe(500);
  });
});
