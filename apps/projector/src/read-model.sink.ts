import { type Kysely, sql } from 'kysely';
import type { FollowerSink } from '@keys/event-follower';
import { PROJECTOR_CHECKPOINT, type ReadModelDatabase, projectFromStore } from '@keys/read-models';
import { counter, gauge } from '@keys/platform';

export interface ProjectionStatus {
  checkpoint: number;
  head: number;
  lag: number;
}

const applied = counter({ name: 'keys_projector_events_applied_total', help: 'Events applied to the read models' });
const lagGauge = gauge({ name: 'keys_projector_lag_events', help: 'How far the read models are behind the event store head (head - checkpoint)' });
const checkpointGauge = gauge({ name: 'keys_projector_checkpoint', help: 'Last event position reflected in the read models' });
const lagSecondsGauge = gauge({ name: 'keys_projector_lag_seconds', help: 'Age of the oldest event not yet in the read models (0 when current)' });

/**
 * Feeds the read models from the event store (the EventFollower decides when): each batch's rows are written in one
 * statement together with the checkpoint, and only if the checkpoint is still where the batch was read from
 * (projectFromStore), so a crash at any moment leaves the read models exactly at their checkpoint, and a standby
 * never applies a batch twice.
 */
export class ReadModelSink implements FollowerSink {
  /** Last checkpoint this process committed or saw; only grows. */
  private checkpoint = 0;

  constructor(
    private readonly db: Kysely<ReadModelDatabase>,
    private readonly batchSize: number,
  ) {}

  get position(): number {
    return this.checkpoint;
  }

  async readToHead(): Promise<{ head: number }> {
    const result = await projectFromStore(this.db, this.batchSize);
    this.checkpoint = Math.max(this.checkpoint, result.checkpoint);
    applied.inc(result.applied);
    checkpointGauge.set(this.checkpoint);
    // projectFromStore reads until a batch comes back short of full: the checkpoint is the head it saw.
    return { head: result.checkpoint };
  }

  /** Checkpoint, store head and the lag between them, from the database; also refreshes the metrics. */
  async status(): Promise<ProjectionStatus> {
    const result = await sql<{ checkpoint: number | null; head: number | null; lag_seconds: number | null }>`
      select c.checkpoint, h.head,
             (select extract(epoch from now() - e.occurred_at)::float8 from events e where e.position = c.checkpoint + 1) as lag_seconds
        from (select (select position from checkpoints where name = ${PROJECTOR_CHECKPOINT}) as checkpoint) c,
             (select (select position from events order by position desc limit 1) as head) h`.execute(this.db);
    const checkpoint = result.rows[0].checkpoint ?? 0;
    const head = result.rows[0].head ?? 0;
    const lag = Math.max(0, head - checkpoint);
    lagGauge.set(lag);
    lagSecondsGauge.set(lag > 0 ? Math.max(0, Number(result.rows[0].lag_seconds ?? 0)) : 0);
    checkpointGauge.set(checkpoint);
    return { checkpoint, head, lag };
  }
}
