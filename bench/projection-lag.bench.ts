import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { EventAppender, headPosition, openEventStore } from '@keys/event-store';
import { startApp, waitForHttp } from './app-process';
import { CpuMeter } from './cpu-meter';
import type { BenchEnv } from './bench-env';
import { type BenchResult, percentile, round } from './bench-result';

const RATE_PER_SECOND = 1000;
const WARM_UP_MS = 3000;

/**
 * projection_lag_p99: the command app (for its outbox relay) and the projector in their own processes;
 * this process appends KeyCreated events at a steady RATE_PER_SECOND through the group-commit appender and
 * records when each append committed; a notification from the projector's checkpoint row records when each
 * position became visible. The checkpoint is saved in the same transaction as the read-model rows, so
 * "checkpoint >= position" is exactly "the event's row is visible". Lag = visible - committed, per event.
 *
 * The notification comes from a trigger the bench puts on `checkpoints` in its own throwaway database; NOTIFY is
 * delivered when the projector's statement commits, i.e. when the rows became visible to others. (A poll of the
 * checkpoint every millisecond would read each position up to a millisecond late and run a thousand queries a
 * second beside the measured pipeline.)
 */
export async function projectionLagP99(env: BenchEnv, durationMs: number): Promise<BenchResult> {
  const db = await openEventStore(env.databaseUrl, { max: 4 });
  const appender = new EventAppender(db);
  const shared = { DATABASE_URL: env.databaseUrl, NATS_URL: env.natsUrl, KEYS_STREAM: env.streamName, KEYS_SUBJECT_PREFIX: env.subjectPrefix };
  const command = startApp('command', { RATE_LIMIT_PER_SECOND: '0', ...shared, PORT: '3900' });
  const projector = startApp('projector', { ...shared, PORT: '3901' });
  const listener = new Client({ connectionString: env.databaseUrl });
  await listener.connect();
  const committedAt = new Map<number, number>();
  const visibleAt = new Map<number, number>();
  let keyId = 20_000_000;
  const appendOne = async () => {
    const id = keyId++;
    const [envelope] = await appender.append({
      streamId: `key-${id}`,
      expectedVersion: 0,
      accountId: 1,
      events: [
        {
          type: 'KeyCreated',
          data: { keyId: id, accountId: 1, keyType: 'proxy', name: 'lag', prefix: 'ms-bench', hash: randomUUID().replace(/-/g, '').padEnd(64, '0'), expiresAt: null },
          metadata: { actor: { type: 'system', name: 'bench' }, ipAddress: null, userAgent: null, correlationId: randomUUID() },
        },
      ],
    });
    committedAt.set(envelope.position, performance.now());
  };
  let seen = 0;
  let onSeen = (): void => undefined;
  listener.on('notification', (message) => {
    const now = performance.now();
    const position = Number(message.payload);
    for (let p = seen + 1; p <= position; p++) visibleAt.set(p, now);
    seen = Math.max(seen, position);
    onSeen();
  });
  const reached = (position: number, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      if (seen >= position) return resolve();
      const timer = setTimeout(() => reject(new Error(`the projector did not reach ${position} within ${timeoutMs} ms`)), timeoutMs);
      onSeen = () => {
        if (seen < position) return;
        clearTimeout(timer);
        onSeen = () => undefined;
        resolve();
      };
    });
  /** Appends at RATE_PER_SECOND for `ms` (every tick issues however many are due since the start); resolves when all committed. */
  const steadyAppends = async (ms: number): Promise<number> => {
    const appends: Promise<void>[] = [];
    const started = performance.now();
    const total = Math.round((RATE_PER_SECOND * ms) / 1000);
    while (appends.length < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) * RATE_PER_SECOND) / 1000));
      while (appends.length < due) appends.push(appendOne());
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(appends);
    return total;
  };
  try {
    await waitForHttp('http://127.0.0.1:3900/health/ready');
    await waitForHttp('http://127.0.0.1:3901/health/ready');
    await listener.query(CHECKPOINT_TRIGGER);
    await listener.query('listen bench_checkpoint');
    // Warm the pipeline up (relay, JetStream consumer, projector: JIT, pools, the new tables' first pages and
    // statistics) at the measured rate for WARM_UP_MS, then start from a caught-up projector. The first seconds
    // after the apps start were where most of the tail came from; the measured window is the steady state.
    await steadyAppends(WARM_UP_MS);
    const warm = await headPosition(db);
    await reached(warm, 30_000);
    const first = warm + 1;

    const meter = CpuMeter.start({ projector, command });
    const started = performance.now();
    const total = await steadyAppends(durationMs);
    const cpu = meter.perOperation(total);
    const issuedSeconds = (performance.now() - started) / 1000;
    const last = await headPosition(db);
    await reached(last, 60_000);

    const lags: number[] = [];
    for (let p = first; p <= last; p++) lags.push(Math.max(0, (visibleAt.get(p) as number) - (committedAt.get(p) as number)));
    lags.sort((a, b) => a - b);
    const value = percentile(lags, 99);
    return {
      name: 'projection_lag_p99',
      value: round(value, 2),
      unit: 'ms',
      baseline: null,
      ratio: null,
      target: '<= 50 ms',
      met: value <= 50,
      notes: { p50_ms: round(percentile(lags, 50), 2), max_ms: round(lags[lags.length - 1], 2), events: lags.length, rate_per_s: round(total / issuedSeconds), ...cpu },
    };
  } finally {
    await listener.end();
    await appender.close();
    await db.destroy();
    await projector.stop();
    await command.stop();
  }
}

/** Notifies `bench_checkpoint` with the projector's position whenever its checkpoint row is written. */
const CHECKPOINT_TRIGGER = `
  create or replace function bench_checkpoint_notify() returns trigger language plpgsql as $$
  begin
    if new.name = 'projector' then perform pg_notify('bench_checkpoint', new.position::text); end if;
    return null;
  end $$;
  create or replace trigger bench_checkpoint_notify after insert or update on checkpoints
    for each row execute function bench_checkpoint_notify();`;
