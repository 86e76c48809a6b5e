import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DynamicModule, type INestApplication, type LoggerService, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger, LoggerModule } from 'nestjs-pino';
import pino, { type Logger as Pino } from 'pino';
import type { Options } from 'pino-http';
import { ConfigError, readEnv } from './config';
import { routeTemplateOf } from './http-metrics.middleware';

// Logs through pino (nestjs-pino): JSON lines a shipper can parse, one access line per request, the request id on
// every line logged while serving it (nestjs-pino keeps the request's logger in async-local storage), and no
// secrets: request headers are never logged, and anything that looks like one of our keys is masked.

export type LogFormat = 'json' | 'pretty';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggingSettings {
  /** LOG_LEVEL (default info). */
  level: LogLevel;
  /** LOG_FORMAT: json, or pretty (the default only when stdout is a terminal). */
  format: LogFormat;
}

export function readLoggingSettings(env: NodeJS.ProcessEnv = process.env, stdoutIsTty = Boolean(process.stdout.isTTY)): LoggingSettings {
  const level = readEnv.string(env, 'LOG_LEVEL', 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  const format = readEnv.string(env, 'LOG_FORMAT', stdoutIsTty ? 'pretty' : 'json').toLowerCase();
  if (format !== 'json' && format !== 'pretty') throw new ConfigError(`LOG_FORMAT must be json or pretty, got "${format}"`);
  return { level: level as LogLevel, format };
}

/** Our keys as scanners see them: prefix, 43 base62 characters of body, 6 of checksum (docs/architecture.md). */
const KEY_PATTERN = /\bm[sk]-[0-9A-Za-z]{20,}/g;
export const REDACTED_KEY = '[redacted key]';

/** Masks anything in a text that looks like a full key. */
export function redactKeys(text: string): string {
  return text.replace(KEY_PATTERN, REDACTED_KEY);
}

/** What Express and our edge add to a request by the time it is logged. */
interface Served {
  correlationId?: string;
  caller?: { accountId?: number };
  route?: unknown;
  baseUrl?: string;
}
const served = (req: IncomingMessage): Served => req as IncomingMessage & Served;

/** The pino-http options every app uses; exported so a test can check what reaches the output. */
export function pinoHttpOptions(settings: LoggingSettings, name: string, destination?: NodeJS.WritableStream): Options {
  return {
    level: settings.level,
    name,
    ...(destination ? { stream: destination } : {}),
    ...(settings.format === 'pretty' && !destination
      ? { transport: { target: 'pino-pretty', options: { singleLine: true, colorize: Boolean(process.stdout.isTTY), ignore: 'pid,hostname' } } }
      : {}),
    // The request id the HTTP edge gave the request (X-Request-Id), so log lines and the answer's header agree.
    genReqId: (req) => served(req).correlationId ?? randomUUID(),
    quietReqLogger: true,
    autoLogging: { ignore: (req) => req.url === '/metrics' || (req.url ?? '').startsWith('/health') },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    customSuccessMessage: (req, res) => `${req.method} ${routeOf(req)} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${routeOf(req)} ${res.statusCode}`,
    // The route and account on the access line only, added to its object: pino-http's customProps would create
    // a child logger per request for them, twice (when the request starts and when it ends).
    customSuccessObject: (req, _res, line) => withRouteAndAccount(req, line),
    customErrorObject: (req, _res, _err, line) => withRouteAndAccount(req, line),
    // Only these fields of a request and a response; headers (Authorization among them) never reach the log.
    serializers: {
      req: (req: { id?: unknown; method?: string }) => ({ id: req.id, method: req.method }),
      res: (res: ServerResponse | { statusCode?: number }) => ({ statusCode: res.statusCode }),
      err: (err: Error & { code?: string }) => ({ type: err.name, message: redactKeys(err.message), code: err.code }),
    },
    hooks: {
      logMethod(args, method) {
        method.apply(
          this,
          args.map((arg) => (typeof arg === 'string' ? redactKeys(arg) : arg)) as Parameters<typeof method>,
        );
      },
    },
  };
}

function withRouteAndAccount(req: IncomingMessage, line: object): object {
  const accountId = served(req).caller?.accountId;
  return { ...line, route: routeOf(req), ...(accountId !== undefined ? { accountId } : {}) };
}

/** The route template (`/api/keys/:id`), never the raw path with its ids. */
function routeOf(req: IncomingMessage): string {
  return routeTemplateOf(served(req));
}

@Module({})
class LoggedApp {}

export interface LoggedHttpAppOptions {
  /** Only errors (tests). */
  quiet?: boolean;
  /** Replaces stdout (tests). */
  destination?: NodeJS.WritableStream;
  /**
   * False for an app whose HTTP serves only /health and /metrics (never access-logged anyway): then no request
   * logging middleware runs at all. That middleware keeps the request's logger in async-local storage, and on
   * Node 20 the first use of async-local storage switches on promise hooks for the whole process, for good: from
   * then on every promise and I/O callback pays for them, the NATS hot path of the verifier included (about 15%
   * more CPU per request-reply round trip measured). Default true.
   */
  requestLogging?: boolean;
}

/**
 * Creates a Nest HTTP app (without Nest's body parser: configureHttpApp installs its own) whose every log line goes
 * through pino.
 */
export async function createLoggedHttpApp(root: DynamicModule, name: string, settings: LoggingSettings, options: LoggedHttpAppOptions = {}): Promise<INestApplication> {
  const effective: LoggingSettings = options.quiet ? { ...settings, level: 'error' } : settings;
  const httpOptions = pinoHttpOptions(effective, name, options.destination);
  // One pino instance for the whole life of the app: the start-up phase (while modules are created, e.g. waiting
  // for Postgres) logs through it directly, the running app through nestjs-pino's request-aware logger.
  const instance = createPino(httpOptions);
  const app = await NestFactory.create(
    {
      module: LoggedApp,
      imports: [LoggerModule.forRoot({ pinoHttp: { ...httpOptions, logger: instance }, ...(options.requestLogging === false ? { forRoutes: [] } : {}) }), root],
    },
    { bodyParser: false, logger: new StartupLogger(instance) },
  );
  app.useLogger(app.get(Logger));
  return app;
}

function createPino(options: Options): Pino {
  const { level, name, hooks, serializers, transport, stream } = options as Options & { stream?: NodeJS.WritableStream };
  const pinoOptions = { level, name, hooks, serializers, ...(transport ? { transport } : {}) };
  return stream ? pino(pinoOptions, stream) : pino(pinoOptions);
}

/**
 * Nest's logger interface over pino for the start-up phase, before the app (and nestjs-pino's logger in it)
 * exists. Hand-written because it is only the mapping of Nest's five methods onto pino's levels.
 */
class StartupLogger implements LoggerService {
  constructor(private readonly pino: Pino) {}
  log(message: unknown, context?: string): void {
    this.pino.info({ context }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.pino.warn({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.pino.error({ context: context ?? trace }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.pino.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.pino.trace({ context }, String(message));
  }
}
