import type { ColumnType, Insertable, Selectable, Transaction } from 'kysely';
import type { Database } from './database';

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

/** Upserts key_index rows; with several rows for one key the last one wins (one statement either way). */
export async function upsertKeyIndexRows(trx: Transaction<Database>, rows: Insertable<KeyIndexTable>[]): Promise<void> {
  if (rows.length === 0) return;
  const latest = [...new Map(rows.map((row) => [row.key_id, row])).values()];
  await trx
    .insertInto('key_index')
    .values(latest)
    .onConflict((oc) =>
      oc.column('key_id').doUpdateSet((eb) => ({
        name: eb.ref('excluded.name'),
        active: eb.ref('excluded.active'),
        expires_at: eb.ref('excluded.expires_at'),
        expired: eb.ref('excluded.expired'),
        deleted: eb.ref('excluded.deleted'),
        updated_at: eb.ref('excluded.updated_at'),
        version: eb.ref('excluded.version'),
      })),
    )
    .execute();
}
