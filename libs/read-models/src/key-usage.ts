import { type Kysely, sql } from 'kysely';
import type { ReadModelDatabase } from './read-model.database';

type Db = Kysely<ReadModelDatabase>;

/**
 * A reported use time may run ahead of the receiver's clock by at most this much (clock skew between hosts);
 * a later one is cut to it, so no batch can put lastUsedAt in the future.
 */
export const USAGE_MAX_SKEW_MS = 1000;
/** Most entries taken from one message; the verifier's chunks are far smaller (NATS max payload). */
export const USAGE_MAX_ENTRIES = 100_000;

/** One usage message of `<prefix>.usage` (docs/asyncapi.yaml): the keys an instance saw VALID since its last flush. */
export interface UsageBatch {
  instance: string;
  /** [keyId, lastUsedMs] pairs. */
  batch: Array<[number, number]>;
}

/** The message, or null when it is not one; ill-formed entries are dropped, the rest kept. */
export function parseUsageBatch(data: Uint8Array): UsageBatch | null {
  let message: unknown;
  try {
    message = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    return null;
  }
  if (typeof message !== 'object' || message === null) return null;
  const { instance, batch } = message as { instance?: unknown; batch?: unknown };
  if (typeof instance !== 'string' || instance.length > 200 || !Array.isArray(batch) || batch.length > USAGE_MAX_ENTRIES) return null;
  const entries: Array<[number, number]> = [];
  for (const entry of batch) {
    if (!Array.isArray(entry) || entry.length !== 2) continue;
    const [keyId, ms] = entry as unknown[];
    if (isPositiveInteger(keyId) && isPositiveInteger(ms)) entries.push([keyId, ms]);
  }
  return { instance, batch: entries };
}

const isPositiveInteger = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value > 0;

/**
 * Raises each key's last_used_at to the reported time, never lowers it (several verifiers, restarts and
 * redelivered or late batches all fold by max), in one statement. Times are cut to `receivedAtMs` plus
 * USAGE_MAX_SKEW_MS. Only keys the read model knows get a row, so a forged batch cannot grow the table.
 * Returns the rows written.
 */
export async function recordKeyUsage(db: Db, entries: ReadonlyArray<readonly [number, number]>, receivedAtMs: number): Promise<number> {
  const latest = new Map<number, number>();
  const ceiling = receivedAtMs + USAGE_MAX_SKEW_MS;
  // One row per key: `on conflict do update` refuses to touch a row twice in one statement.
  for (const [keyId, ms] of entries) latest.set(keyId, Math.max(latest.get(keyId) ?? 0, Math.min(ms, ceiling)));
  if (latest.size === 0) return 0;
  const result = await sql`
    insert into key_usage (key_id, last_used_at)
    select u.key_id, to_timestamp(u.ms / 1000.0)
      from unnest(${[...latest.keys()]}::bigint[], ${[...latest.values()]}::bigint[]) as u(key_id, ms)
      join keys k on k.id = u.key_id
    on conflict (key_id) do update set last_used_at = greatest(key_usage.last_used_at, excluded.last_used_at)`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
