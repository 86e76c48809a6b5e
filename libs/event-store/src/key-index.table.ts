import type { ColumnType, Selectable } from 'kysely';

/**
 * Row of `key_index`: the command side's lookup of every key, derived from the key events and written in
 * the same transaction as them (by libs/key-service). Rebuildable from the events like any read model.
 */
export interface KeyIndexTable {
  key_id: number;
  account_id: number;
  key_type: 'proxy' | 'billing';
  hash: string;
  prefix: string;
  name: string;
  active: boolean;
  expires_at: ColumnType<Date | null, string | null, string | null>;
  expired: boolean;
  deleted: boolean;
  created_at: ColumnType<Date, string, string>;
  updated_at: ColumnType<Date, string, string>;
  version: number;
}

export type KeyIndexRow = Selectable<KeyIndexTable>;
