import { EventAppender, openEventStore } from '@keys/event-store';
import type { CommandDb } from './key-index.table';
import { KeyCommandService } from './key-command.service';

export interface KeyServiceSession {
  db: CommandDb;
  keys: KeyCommandService;
  close(): Promise<void>;
}

/** Opens the store (created and migrated if needed) with the write path on top, for a CLI run or a test. */
export async function openKeyService(databaseUrl: string, options: { max?: number; ownerUrl?: string } = {}): Promise<KeyServiceSession> {
  const db = await openEventStore(databaseUrl, { max: options.max ?? 4, ownerUrl: options.ownerUrl });
  const appender = new EventAppender(db);
  return {
    db,
    keys: new KeyCommandService(db, appender),
    async close() {
      await appender.close();
      await db.destroy();
    },
  };
}
