import type { EventMetadata } from '@keys/domain';
import type { Kysely } from 'kysely';
import type { AppendRequest, NewEvent } from './append';
import { createDatabase, type Database } from './database';
import { migrateToLatest } from './migrate';

export const metadata: EventMetadata = {
  actor: { type: 'operator', name: 'test' },
  ipAddress: '127.0.0.1',
  userAgent: null,
  correlationId: 'corr-1',
};

export function renamed(keyId: number, name: string, extra: Partial<NewEvent> = {}): NewEvent {
  return { type: 'KeyRenamed', data: { keyId, name }, metadata, ...extra } as NewEvent;
}

/** A request appending `count` KeyRenamed events to `key-<keyId>`. */
export function renameRequest(keyId: number, expectedVersion: number, count = 1): AppendRequest {
  return {
    streamId: `key-${keyId}`,
    expectedVersion,
    accountId: 1000 + (keyId % 7),
    events: Array.from({ length: count }, (_, i) => renamed(keyId, `name ${expectedVersion + i + 1}`)),
  };
}

/** Opens and migrates the database of a test context (kept free of @keys/testing so builds never pull it in). */
export async function openMigratedStore(databaseUrl: string, max = 4): Promise<Kysely<Database>> {
  const db = createDatabase(databaseUrl, { max });
  await migrateToLatest(db);
  return db;
}
