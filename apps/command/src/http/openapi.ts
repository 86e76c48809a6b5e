import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { keyRouteOperationId } from './key-route';

/** OpenAPI at /docs (UI) and /docs/openapi.json, generated from the controllers and DTOs. */
export function setupOpenApi(app: INestApplication): void {
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
}

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('keys — key management API')
    .setDescription(
      'Issue, rotate, deactivate, expire and delete API keys. Every /api/* route needs a billing key: ' +
        '`Authorization: Bearer mk-...`. Errors: {"error":{"message","type","code"[,"param"]}}; the codes of each ' +
        'status are listed per route (docs/api.md, Errors). Verification and events run over NATS: see docs/asyncapi.yaml.',
    )
    .setVersion('1')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      // Not a JWT: an opaque billing key.
      bearerFormat: 'mk-<43 base62 characters><6 base62 checksum characters>',
      description: 'a billing key (mk-…), at most 200 characters; proxy keys (ms-…) are refused with 403 wrong_key_type',
    })
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    // Key routes are one abstract controller per use case with a subclass per key type, so the ids come from
    // @KeyOperationId through @KeyRoute; every other route names its id with @ApiOperation or gets Class_method.
    operationIdFactory: (controller, method) => keyRouteOperationId(controller, method) ?? `${controller}_${method}`,
  });
  describeOperationalRoutes(document);
  return document;
}

/**
 * /health, /health/ready and /metrics come from the shared platform controller (libs/platform), which carries no
 * OpenAPI decorators; their answers are described here.
 */
function describeOperationalRoutes(document: OpenAPIObject): void {
  const requestId = { 'X-Request-Id': { description: "the request's X-Request-Id, or a generated UUID", schema: { type: 'string' } } };
  const checks = { type: 'object', additionalProperties: true, description: 'per check: its outcome and details' };
  const routes: Record<string, { operationId: string; summary: string; responses: Record<string, unknown> }> = {
    '/health': {
      operationId: 'getHealth',
      summary: 'Liveness',
      responses: {
        200: { description: 'alive', headers: requestId, content: { 'application/json': { schema: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } } } } } },
      },
    },
    '/health/ready': {
      operationId: 'getReadiness',
      summary: 'Readiness (docs/operations.md)',
      responses: {
        200: {
          description: 'ready',
          headers: requestId,
          content: { 'application/json': { schema: { type: 'object', required: ['status', 'checks'], properties: { status: { type: 'string', enum: ['ready'] }, checks } } } },
        },
        503: {
          description: 'not ready: the error body with status and checks',
          headers: requestId,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['error', 'status', 'checks'],
                properties: { error: { $ref: '#/components/schemas/ApiErrorSchema' }, status: { type: 'string', enum: ['unavailable'] }, checks },
              },
            },
          },
        },
      },
    },
    '/metrics': {
      operationId: 'getMetrics',
      summary: 'Prometheus metrics',
      responses: { 200: { description: 'Prometheus text exposition format', headers: requestId, content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
  };
  for (const [path, described] of Object.entries(routes)) {
    const operation = document.paths[path]?.get;
    if (!operation) continue;
    Object.assign(operation, { operationId: described.operationId, summary: described.summary, responses: described.responses, tags: ['operations'] });
  }
}
