import { sql } from 'kysely';
import { type AccountKeysAsOf, type EventEnvelope, accountKeysAsOf, accountStreamId } from '@keys/domain';
import { toEnvelope } from '@keys/event-store';
import { type Output, UsageError, parseOptions, positiveInt, requiredString, table } from '../cli';
import { openExistingEventStore } from './event-store.session';

/**
 * An account's keys exactly as they were at `--as-of`, replayed from the events (not read from a read
 * model): every event of the account that occurred at or before the instant, folded in position order.
 */
export async function accountState(args: string[], out: Output): Promise<number> {
  const values = parseOptions(args, { account: { type: 'string' }, 'as-of': { type: 'string' } });
  const accountId = positiveInt(values, 'account');
  const rawAsOf = requiredString(values, 'as-of');
  // A bare date or a time without an offset would be read in the machine's time zone: refuse it.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(rawAsOf) || Number.isNaN(Date.parse(rawAsOf))) {
    throw new UsageError('--as-of must be an ISO-8601 date-time with a time zone, e.g. 2030-01-31T12:00:00Z');
  }
  const asOf = new Date(rawAsOf).toISOString();
  const db = await openExistingEventStore();
  try {
    const created = await db.selectFrom('events').select('occurred_at').where('stream_id', '=', accountStreamId(accountId)).executeTakeFirst();
    if (!created) {
      out.log(`keysctl: no account ${accountId} in the event store`);
      return 1;
    }
    // Selected by hash-covered content only (stream ids, KeyCreated's accountId), not by the account_id
    // column, which the chain does not cover: a rewritten column cannot hide a key's events from this view.
    const rows = await db
      .selectFrom('events')
      .selectAll()
      .where('occurred_at', '<=', new Date(asOf))
      .where((eb) =>
        eb.or([
          eb('stream_id', '=', accountStreamId(accountId)),
          eb(
            'stream_id',
            'in',
            eb.selectFrom('events').select('stream_id').where('type', '=', 'KeyCreated').where(sql<string>`data->>'accountId'`, '=', String(accountId)),
          ),
        ]),
      )
      .orderBy('position')
      .execute();
    const state = accountKeysAsOf(accountId, rows.map(toEnvelope) as EventEnvelope[], asOf);
    out.result(state, renderState(state));
    return 0;
  } finally {
    await db.destroy();
  }
}

function renderState(state: AccountKeysAsOf): string {
  if (!state.accountExisted) return `account ${state.accountId} did not exist yet at ${state.asOf}`;
  if (state.keys.length === 0) return `account ${state.accountId} had no keys at ${state.asOf}`;
  const rows = state.keys.map((k) => [
    String(k.id),
    k.type,
    k.name,
    k.prefix,
    k.status,
    String(k.active),
    k.createdAt ?? '-',
    k.expiresAt ?? '-',
  ]);
  return `account ${state.accountId} as of ${state.asOf}: ${state.keys.length} key${state.keys.length === 1 ? '' : 's'}\n${table(['ID', 'TYPE', 'NAME', 'PREFIX', 'STATUS', 'ACTIVE', 'CREATED', 'EXPIRES'], rows)}`;
}
