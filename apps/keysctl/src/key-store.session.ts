import { type KeyServiceSession, openKeyService } from '@keys/key-service';
import { readCoreConfig } from '@keys/platform';

export type KeyStoreSession = KeyServiceSession;

/**
 * Opens the event store named by DATABASE_URL for one CLI command; DATABASE_OWNER_URL creates and migrates it
 * if needed, and the writes go through the app role like the command service's.
 */
export function openKeyStore(): Promise<KeyStoreSession> {
  const config = readCoreConfig();
  return openKeyService(config.databaseUrl, { ownerUrl: config.databaseOwnerUrl });
}
