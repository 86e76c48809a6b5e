import { EventAppender, openEventStore } from '@keys/event-store';
import { type CommandDb, KeyCommandService } from '@keys/key-service';
import { readCoreConfig } from '@keys/platform';

export interface KeyStoreSession {
  db: CommandDb;
  keys: KeyCommandService;
  close(): Promise<void>;
}

/** Opens the event store named by DATABASE_URL (created and migrated if needed) for one CLI command. */
export async function openKeyStore(): Promise<KeyStoreSession> {
  const config = readCoreConfig();
  const db = (await openEventStore(config.databaseUrl, { max: 4 })) as unknown as CommandDb;
  const appender = new EventAppender(db as never);
  return {
    db,
    keys: new KeyCommandService(db, appender),
    async close() {
      await appender.close();
      await db.destroy();
    },
  };
}
