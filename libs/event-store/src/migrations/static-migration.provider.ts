import type { Migration, MigrationProvider } from 'kysely';
import * as events from './2026-11-26-001-events';
import * as idSequences from './2026-11-26-002-id-sequences';
import * as checkpoints from './2026-11-26-003-checkpoints';
import * as keyIndex from './2026-11-26-004-key-index';
import * as readModels from './2026-11-26-005-read-models';
import * as appendBatchState from './2026-11-26-006-append-batch-state';
import * as keyLookup from './2026-11-27-007-key-lookup';
import * as keyRevocation from './2026-11-30-008-key-revocation';
import * as keyUsage from './2026-11-30-009-key-usage';

/**
 * Migrations listed by import rather than found on disk, so they work the same from ts sources
 * (jest, swc-node) and from the tsc build. Kysely runs them in name order.
 */
export const eventStoreMigrations: Record<string, Migration> = {
  '2026-11-26-001-events': events,
  '2026-11-26-002-id-sequences': idSequences,
  '2026-11-26-003-checkpoints': checkpoints,
  '2026-11-26-004-key-index': keyIndex,
  '2026-11-26-005-read-models': readModels,
  '2026-11-26-006-append-batch-state': appendBatchState,
  '2026-11-27-007-key-lookup': keyLookup,
  '2026-11-30-008-key-revocation': keyRevocation,
  '2026-11-30-009-key-usage': keyUsage,
};

export class StaticMigrationProvider implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration> = eventStoreMigrations) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    return this.migrations;
  }
}
