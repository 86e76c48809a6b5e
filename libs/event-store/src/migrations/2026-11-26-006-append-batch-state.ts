import { type Kysely, sql } from 'kysely';

// The group-commit appender's first statement: takes the append lock, then reads what the batch is checked
// against. One round trip instead of two, and correct only because this is a VOLATILE function: in READ
// COMMITTED each query inside it takes a fresh snapshot, so the reads below see every append committed before
// the lock was granted. (A plain statement taking the lock would read a snapshot from before it.)
// The lookups go element by element through the indexes: PL/pgSQL caches a generic plan after a few calls, and a
// generic plan for `stream_id = any($1)` ... `group by` scanned the whole table.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function append_batch_state(lock_key bigint, stream_ids text[], event_ids uuid[])
    returns table (head_position bigint, head_hash text, isolation text, versions json, existing json)
    language plpgsql volatile as $$
    begin
      perform pg_advisory_xact_lock(lock_key);
      return query select
        (select e.position from events e order by e.position desc limit 1),
        (select e.hash from events e order by e.position desc limit 1),
        current_setting('transaction_isolation'),
        (select coalesce(json_agg(json_build_array(s.id, s.v)), '[]'::json)
           from (select ids.id, (select max(e.stream_version) from events e where e.stream_id = ids.id) as v
                   from unnest(stream_ids) ids(id)) s
          where s.v is not null),
        (select coalesce(json_agg(ids.id), '[]'::json)
           from unnest(event_ids) ids(id)
          where exists (select from events e where e.event_id = ids.id));
    end $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function append_batch_state(bigint, text[], uuid[])`.execute(db);
}
