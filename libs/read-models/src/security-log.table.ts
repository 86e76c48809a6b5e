import type { ColumnType, Selectable } from 'kysely';
import type { SecurityAction, SecurityLogDetails } from './security-log.projection';

/** Row shape of `security_log`. `id` is the event's position: unique, monotone, identical in every rebuild. */
export interface SecurityLogTable {
  id: number;
  account_id: number;
  action: SecurityAction;
  ip_address: string | null;
  created_at: ColumnType<Date, string, string>;
  /** jsonb, written as a JSON string. */
  details: ColumnType<SecurityLogDetails, string, string>;
}

export type SecurityLogTableRow = Selectable<SecurityLogTable>;
