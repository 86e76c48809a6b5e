import type { ColumnType, Selectable } from 'kysely';
import type { KeyType } from '@keys/domain';
import type { KeyRowState } from './key-row.projection';

/** Row shape of the `keys` read model (one row per key ever created; deleted keys stay with state 'deleted'). */
export interface KeysTable {
  id: number;
  account_id: number;
  key_type: KeyType;
  name: string;
  prefix: string;
  /** state = 'active', kept as a column for simple filters; reads still judge expiresAt at read time. */
  active: boolean;
  state: KeyRowState;
  created_at: ColumnType<Date, string, string>;
  expires_at: ColumnType<Date | null, string | null, string | null>;
  revoked_at: ColumnType<Date | null, string | null, string | null>;
  revoked_reason: 'leaked' | 'operator' | null;
  revoked_found_at: string | null;
  updated_at: ColumnType<Date, string, string>;
  /** Position of the last event applied to this row: the projection ignores anything at or below it. */
  last_position: number;
}

export type KeysTableRow = Selectable<KeysTable>;
