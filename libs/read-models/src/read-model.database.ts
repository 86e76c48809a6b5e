import type { Database } from '@keys/event-store';
import type { KeysTable } from './keys.table';
import type { KeyUsageTable } from './key-usage.table';
import type { SecurityLogTable } from './security-log.table';

// The read models live in the store's database (a checkpoint commits with the rows), so they join its one type.
declare module '@keys/event-store' {
  interface Database {
    keys: KeysTable;
    security_log: SecurityLogTable;
    key_usage: KeyUsageTable;
  }
}

/** The one database type, under the name the projector's code uses. */
export type ReadModelDatabase = Database;

/**
 * Which physical tables a projection writes: the live ones, or fresh copies that a rebuild fills and then
 * swaps in. Both sets have identical columns and indexes (`create table ... (like keys including all)`).
 */
export interface ReadModelTables {
  keys: string;
  securityLog: string;
}

export const LIVE_TABLES: ReadModelTables = { keys: 'keys', securityLog: 'security_log' };
export const REBUILD_TABLES: ReadModelTables = { keys: 'keys_rebuild', securityLog: 'security_log_rebuild' };
export const RETIRED_TABLES: ReadModelTables = { keys: 'keys_retired', securityLog: 'security_log_retired' };

/** Name of the projector's row in `checkpoints`: the last position reflected in the live read models. */
export const PROJECTOR_CHECKPOINT = 'projector';
