import { type INestApplication, Logger } from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';
import { ApiError } from './api-error';
import { fromStatus, ApiExceptionFilter } from './api-exception.filter';
import { redactUrl } from './config';
import { httpMetrics } from './http-metrics.middleware';

export const BODY_LIMIT = '16kb';
const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * Shared HTTP edge for every app: JSON bodies up to 16 KiB (`signedBodyRoutes`: path → limit, raw bytes kept), 415 for non-JSON bodies, body-parser failures
 * in the error shape, correlation ids echoed back. Create the app with `{ bodyParser: false }`.
 */
export function configureHttpApp(app: INestApplication, options: { trustProxy?: boolean; signedBodyRoutes?: Record<string, string> } = {}): void {
  const instance = app.getHttpAdapter().getInstance() as express.Express;
  instance.disable('x-powered-by');
  // No ETag on answers: every route is authenticated and answers change with each write, so no client revalidates,
  // and Express would hash every JSON body to make one.
  instance.disable('etag');
  instance.set('trust proxy', options.trustProxy ? true : false);
  app.use(httpMetrics);
  app.use(correlationId);
  app.use(requireJsonBody);
  // A route whose body is signed keeps the exact bytes (req.rawBody) and may have its own limit; the general
  // parser then skips the already-parsed body.
  for (const [path, limit] of Object.entries(options.signedBodyRoutes ?? {})) {
    app.use(path, express.json({ limit, type: JSON_TYPES, strict: true, verify: keepRawBody }));
  }
  app.use(express.json({ limit: BODY_LIMIT, type: JSON_TYPES, strict: true }));
  app.use(bodyParserErrors);
  app.useGlobalFilters(new ApiExceptionFilter());
  app.enableShutdownHooks();
}

function keepRawBody(req: Request, _res: Response, buffer: Buffer): void {
  (req as Request & { rawBody?: Buffer }).rawBody = buffer;
}

/** The exact body bytes of a route configured in `signedBodyRoutes`; undefined elsewhere or without a body. */
export function rawBodyOf(req: Request): Buffer | undefined {
  return (req as Request & { rawBody?: Buffer }).rawBody;
}

function correlationId(req: Request, res: Response, next: NextFunction): void {
  const incoming = req.header('x-request-id');
  // Accept a caller's id only if it is short and printable; otherwise make one.
  const id = incoming && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
  (req as Request & { correlationId: string }).correlationId = id;
  res.setHeader('X-Request-Id', id);
  next();
}

function requireJsonBody(req: Request, _res: Response, next: NextFunction): void {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !req.is(JSON_TYPES)) {
    next(fromStatus(415));
    return;
  }
  next();
}

function bodyParserErrors(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (!err) return next();
  let error: ApiError;
  if (err instanceof ApiError) error = err;
  else {
    const e = err as { type?: string; status?: number };
    if (e.type === 'entity.too.large') error = fromStatus(413);
    else if (e.type === 'entity.parse.failed') error = ApiError.validation('The request body is not valid JSON.');
    else if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') error = fromStatus(415);
    else error = fromStatus(typeof e.status === 'number' && e.status < 500 ? e.status : 400);
  }
  res.status(error.status).json(error.body());
}

export function correlationIdOf(req: Request): string {
  return (req as Request & { correlationId?: string }).correlationId ?? randomUUID();
}

/** Listens, then says so in one line: the app, its URL and what it connected to (passwords redacted). */
export async function listenAndAnnounce(app: INestApplication, name: string, port: number, connections: Record<string, string | undefined>): Promise<void> {
  await app.listen(port, '0.0.0.0');
  const address = app.getHttpServer().address() as { port: number } | null;
  const uses = Object.entries(connections)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([what, url]) => `${what} ${redactUrl(url)}`)
    .join(', ');
  new Logger(name).log(`listening on http://0.0.0.0:${address?.port ?? port}${uses ? ` (${uses})` : ''}`);
}
