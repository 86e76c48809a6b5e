import { Client } from 'pg';
import { databaseNameOf, eventStoreMigrations } from '@keys/event-store';
import { redactUrl } from '@keys/platform';
import { CliError } from '../cli';

// keysctl never creates or migrates a database on its own (only `keysctl db migrate` does): a mistyped
// DATABASE_URL must fail, not create that database, migrate it and issue a billing key nobody will find.

const NO_SUCH_DATABASE = '3D000';
const NO_SUCH_TABLE = '42P01';
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '57P03']);

/** Which variable a URL came from, named in every message about it. */
export type UrlVariable = 'DATABASE_URL' | 'DATABASE_OWNER_URL';

/** DATABASE_OWNER_URL when set, else DATABASE_URL: the variable the owner's URL came from. */
export function ownerUrlVariable(env: NodeJS.ProcessEnv = process.env): UrlVariable {
  return env.DATABASE_OWNER_URL ? 'DATABASE_OWNER_URL' : 'DATABASE_URL';
}

export type StoreState = { kind: 'missing' } | { kind: 'unmigrated'; pending: string[] } | { kind: 'ready' };

/** Migrations this build knows and the database has not applied, read-only (one short connection). */
export async function inspectStore(url: string, variable: UrlVariable): Promise<StoreState> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    if (codeOf(err) === NO_SUCH_DATABASE) return { kind: 'missing' };
    throw unreachable(err, url, variable);
  }
  try {
    const { rows } = await client.query<{ name: string }>('select name from kysely_migration');
    const applied = new Set(rows.map((r) => r.name));
    const pending = Object.keys(eventStoreMigrations).filter((name) => !applied.has(name));
    return pending.length === 0 ? { kind: 'ready' } : { kind: 'unmigrated', pending };
  } catch (err) {
    if (codeOf(err) === NO_SUCH_TABLE) return { kind: 'unmigrated', pending: Object.keys(eventStoreMigrations) };
    throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Throws a CliError naming the database, where it was looked for and the command that fixes it. */
export async function requireReadyStore(url: string, variable: UrlVariable): Promise<void> {
  const state = await inspectStore(url, variable);
  if (state.kind === 'missing') throw missingDatabase(url, variable);
  if (state.kind === 'unmigrated') {
    const total = Object.keys(eventStoreMigrations).length;
    throw new CliError(
      'database_not_migrated',
      `database "${databaseNameOf(url)}" at ${redactUrl(url)} (${variable}) is not migrated (${state.pending.length} of ${total} migrations missing, from ${state.pending[0]}); run keysctl db migrate`,
    );
  }
}

export function missingDatabase(url: string, variable: UrlVariable): CliError {
  return new CliError(
    'database_missing',
    `database "${databaseNameOf(url)}" does not exist at ${redactUrl(url)} (${variable}); create it with keysctl db migrate --create-database`,
  );
}

function unreachable(err: unknown, url: string, variable: UrlVariable): unknown {
  const code = codeOf(err);
  if (code === undefined || !UNREACHABLE.has(code)) return err;
  return new CliError('database_unreachable', `cannot reach Postgres at ${redactUrl(url)} (${variable}): ${code}`);
}

function codeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: Array<{ code?: unknown }> };
  if (typeof e?.code === 'string') return e.code;
  const inner = e?.errors?.find((x) => typeof x.code === 'string');
  return inner ? (inner.code as string) : undefined;
}
