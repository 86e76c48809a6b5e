import type { Kysely } from 'kysely';
import { type Database, openEventStore } from '@keys/event-store';
import { KeyCommandService, createKeyEventAppender } from './key-command.service';

/** The one database type, under the name the command side has always used. */
export type CommandDb = Kysely<Database>;

export interface KeyServiceSession {
  db: CommandDb;
  keys: KeyCommandService;
  close(): Promise<void>;
}

/** Opens the store (created and migrated if needed) with the write path on top, for a CLI run or a test. */
export async function openKeyService(databaseUrl: string, options: { max?: number; ownerUrl?: string } = {}): Promise<KeyServiceSession> {
  const db = await openEventStore(databaseUrl, { max: options.max ?? 4, ownerUrl: options.ownerUrl });
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
