import { Client, DatabaseError } from 'pg';
import { DatabaseNameError } from './event-store.errors';

const DUPLICATE_DATABASE = '42P04';
// Two concurrent CREATE DATABASE of the same name can also collide on pg_database's unique index.
const UNIQUE_VIOLATION = '23505';

/** Name of the database a postgres:// URL points at. */
export function databaseNameOf(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (name.length === 0) throw new DatabaseNameError(`database URL names no database`);
  return name;
}

/** The same server, the `postgres` maintenance database. */
export function maintenanceUrlOf(url: string): string {
  const parsed = new URL(url);
  parsed.pathname = '/postgres';
  return parsed.toString();
}

/** Double-quoted SQL identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Creates the database `url` names unless it exists (created on first start, docs/operations.md). Safe when
 * several processes start at once.
 */
export async function ensureDatabaseExists(url: string): Promise<void> {
  const name = databaseNameOf(url);
  const client = new Client({ connectionString: maintenanceUrlOf(url) });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount !== 0) return;
    await client.query(`create database ${quoteIdentifier(name)}`);
  } catch (error) {
    if (error instanceof DatabaseError && (error.code === DUPLICATE_DATABASE || error.code === UNIQUE_VIOLATION)) {
      return;
    }
    throw error;
  } finally {
    await client.end();
  }
}
