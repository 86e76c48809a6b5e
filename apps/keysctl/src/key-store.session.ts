import type { Kysely } from 'kysely';
import { type Database, createDatabase } from '@keys/event-store';
import { KeyCommandService, createKeyEventAppender } from '@keys/key-service';
import { readCoreConfig } from '@keys/platform';
import { requireReadyStore } from './db/store-readiness';

export interface KeyStoreSession {
  db: Kysely<Database>;
  keys: KeyCommandService;
  close(): Promise<void>;
}

/**
 * The write path of the command service on the event store named by DATABASE_URL, for one CLI command. Built
 * here rather than with key-service's openKeyService, which creates and migrates the database: keysctl only
 * opens one that exists and is migrated (`keysctl db migrate` does the rest, when asked).
 */
export async function openKeyStore(): Promise<KeyStoreSession> {
  const { databaseUrl } = readCoreConfig();
  await requireReadyStore(databaseUrl, 'DATABASE_URL');
  const db = createDatabase(databaseUrl, { max: 4 });
  const appender = createKeyEventAppender(db);
  return {
    db,
    keys: new KeyCommandService(db, appender),
    async close() {
      await appender.close();
      await db.destroy();
    },
  };
}
