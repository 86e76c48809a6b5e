import { Logger } from '@nestjs/common';
import type { Kysely } from 'kysely';
import { redactUrl, retryUntilReady } from '@keys/platform';
import type { Database } from './database';
import { type OpenEventStoreOptions, openEventStore } from './open-store';

/**
 * openEventStore for an app starting up: while Postgres cannot be reached (it is often still starting), one
 * sentence naming the variable and the address (password redacted) per attempt, and retries with backoff. Errors
 * that retrying cannot fix (a failed migration, a wrong password) stop the app.
 */
export function openEventStoreWhenReady(url: string, options: OpenEventStoreOptions = {}, variable = 'DATABASE_URL'): Promise<Kysely<Database>> {
  const logger = new Logger('postgres');
  return retryUntilReady(
    async () => {
      try {
        return await openEventStore(url, options);
      } catch (err) {
        if (!isUnreachable(err)) throw new FatalStartError(err as Error);
        throw err;
      }
    },
    (err, retryInMs) => {
      if (err instanceof FatalStartError) throw err.cause;
      logger.warn(`cannot reach Postgres at ${variable}=${redactUrl(url)} (${describe(err)}); retrying in ${(retryInMs / 1000).toFixed(1)} s`);
    },
  );
}

class FatalStartError extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
  }
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '57P03' /* cannot_connect_now: starting up */]);

function isUnreachable(err: unknown): boolean {
  const e = err as { code?: string; errors?: Array<{ code?: string }>; message?: string };
  if (e?.code && UNREACHABLE.has(e.code)) return true;
  if (e?.errors?.some((inner) => inner.code && UNREACHABLE.has(inner.code))) return true;
  return /Connection terminated|timeout expired/i.test(String(e?.message));
}

function describe(err: Error): string {
  const e = err as Error & { code?: string; errors?: Array<{ code?: string }> };
  return e.code ?? e.errors?.[0]?.code ?? err.message;
}
