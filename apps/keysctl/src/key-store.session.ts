import { type KeyServiceSession, openKeyService } from '@keys/key-service';
import { readCoreConfig } from '@keys/platform';

export type KeyStoreSession = KeyServiceSession;

/** Opens the event store named by DATABASE_URL (created and migrated if needed) for one CLI command. */
export function openKeyStore(): Promise<KeyStoreSession> {
  return openKeyService(readCoreConfig().databaseUrl);
}
