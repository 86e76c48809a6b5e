import { type EventEnvelope, keyStreamId } from '@keys/domain';
import { readStream } from '@keys/event-store';
import { type Output, parseOptions, positiveInt, table } from '../cli';
import { openExistingEventStore } from './event-store.session';
import { formatActor, formatEventData } from './event-line.format';

/** Every event of one key in order: who (actor), from where (IP address), when, and what. */
export async function keyHistory(args: string[], out: Output): Promise<number> {
  const values = parseOptions(args, { key: { type: 'string' } });
  const keyId = positiveInt(values, 'key');
  const db = await openExistingEventStore();
  try {
    const events = await readStream(db, keyStreamId(keyId));
    if (events.length === 0) {
      out.log(`keysctl: no key ${keyId} in the event store`);
      return 1;
    }
    out.result(events, renderHistory(keyId, events));
    return 0;
  } finally {
    await db.destroy();
  }
}

function renderHistory(keyId: number, events: EventEnvelope[]): string {
  const first = events[0];
  const count = `${events.length} event${events.length === 1 ? '' : 's'}`;
  const header = first.type === 'KeyCreated' ? `key ${keyId} (${first.data.keyType}, account ${first.data.accountId}): ${count}` : `key ${keyId}: ${count}`;
  const rows = events.map((e) => [
    String(e.position),
    e.occurredAt,
    e.type,
    formatActor(e.metadata.actor),
    e.metadata.ipAddress ?? '-',
    formatEventData(e),
  ]);
  return `${header}\n${table(['POSITION', 'TIME', 'EVENT', 'ACTOR', 'IP', 'DATA'], rows)}`;
}
