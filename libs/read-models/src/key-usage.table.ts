import type { ColumnType } from 'kysely';

/**
 * Row shape of `key_usage`: the latest VALID verification of a key as the verifiers reported it (usage
 * telemetry, not events). Not part of the rebuild: it cannot be derived from the store.
 */
export interface KeyUsageTable {
  key_id: number;
  last_used_at: ColumnType<Date, string | Date, string | Date>;
}
