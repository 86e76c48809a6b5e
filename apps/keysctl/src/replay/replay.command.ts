import { connectNats } from '@keys/bus';
import { headPosition, readCheckpoint } from '@keys/event-store';
import { readCoreConfig } from '@keys/platform';
import { type Output, UsageError, parseOptions, positiveInt, progress, requiredString } from '../cli';
import { openExistingEventStore } from '../audit/event-store.session';
import { replayCheckpointName, replayEvents } from './event-replay';
import { openReplayTarget } from './replay-target';

/**
 * Republishes history, in position order and with the same envelope the relay publishes, to one NATS
 * subject (a new subscriber, another environment). Both positions are inclusive. Without --from-position
 * it continues after the position the last run to this subject stopped at (checkpoint `replay:<subject>`),
 * so an interrupted replay is resumed by running the same command again. Without --to-position it stops at
 * the head as it was when it started.
 */
export async function replay(args: string[], out: Output): Promise<number> {
  const values = parseOptions(args, {
    'to-subject': { type: 'string' },
    'from-position': { type: 'string' },
    'to-position': { type: 'string' },
    'batch-size': { type: 'string' },
  });
  const subject = requiredString(values, 'to-subject');
  if (!subject.split('.').every((token) => token.length > 0 && !/[\s*>]/.test(token))) {
    throw new UsageError('--to-subject must be a concrete subject: dot-separated tokens, no spaces or wildcards');
  }
  const explicitFrom = values['from-position'] === undefined ? undefined : positiveInt(values, 'from-position');
  const explicitTo = values['to-position'] === undefined ? undefined : positiveInt(values, 'to-position');
  const batchSize = positiveInt(values, 'batch-size', 500);
  if (explicitFrom === 0 || batchSize === 0) throw new UsageError('--from-position and --batch-size start at 1');
  if (explicitFrom !== undefined && explicitTo !== undefined && explicitTo < explicitFrom) {
    throw new UsageError('--to-position must not be before --from-position');
  }

  const config = readCoreConfig();
  const db = await openExistingEventStore();
  try {
    const head = await headPosition(db);
    const from = explicitFrom ?? (await readCheckpoint(db, replayCheckpointName(subject))) + 1;
    const to = Math.min(explicitTo ?? head, head);
    if (from > to) {
      out.result(
        { subject, stream: null, fromPosition: from, toPosition: to, published: 0, duplicates: 0, lastPosition: from - 1, stopped: false, eventsPerSecond: 0 },
        `nothing to replay to ${subject}: from position ${from}, head ${head}${explicitTo !== undefined ? `, to ${explicitTo}` : ''}`,
      );
      return 0;
    }

    const nc = await connectNats(
      { url: config.natsUrl, user: config.natsUser, password: config.natsPassword, credsFile: config.natsCreds },
      'keysctl-replay',
      { waitOnFirstConnect: false, timeout: 5000 },
    );
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const target = await openReplayTarget(nc, subject);
      const total = to - from + 1; // positions are gap-free
      out.log(`replaying positions ${from}..${to} (${total} events) to ${subject} via ${target.stream ? `JetStream stream ${target.stream}` : 'core NATS'}`);
      const bar = progress('replayed');
      let tally;
      try {
        tally = await replayEvents(db, target, { from, to, batchSize, signal: stop.signal, onBatch: (t) => bar.update(t.sent, total) });
      } finally {
        bar.finish();
      }
      const eventsPerSecond = Math.round(bar.rate(tally.sent));
      const result = {
        subject,
        stream: target.stream,
        fromPosition: from,
        toPosition: to,
        published: tally.sent - tally.duplicates,
        duplicates: tally.duplicates,
        lastPosition: tally.lastPosition,
        stopped: tally.stopped,
        eventsPerSecond,
      };
      const via = target.stream ? `JetStream stream ${target.stream}` : 'core NATS';
      const dupes = tally.duplicates ? ` (${tally.duplicates} already in the stream, dropped by it)` : '';
      out.result(
        result,
        tally.stopped
          ? `stopped after position ${tally.lastPosition}: replayed ${tally.sent} events to ${subject} via ${via}${dupes}; run again without --from-position to continue`
          : `replayed ${tally.sent} events (positions ${from}..${to}) to ${subject} via ${via}${dupes}, ${eventsPerSecond} events/s`,
      );
      return tally.stopped ? 130 : 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await nc.close();
    }
  } finally {
    await db.destroy();
  }
}
