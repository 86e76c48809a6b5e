import type { Kysely } from 'kysely';
import type { ConsumerMessages, JetStreamManager, NatsConnection } from 'nats';
import { decodeJson } from '@keys/bus';
import { CliError } from '../cli';
import { type Database, canonicalJson, headPosition, toPublicEnvelope, toStoredEvent } from '@keys/event-store';

export type StreamFinding =
  /** The stream holds events past the store's head: the store lost its tail. */
  | { kind: 'truncated'; position: number; storeHead: number; streamLastPosition: number }
  /** The store holds another event, or other content, at a position the stream recorded. */
  | { kind: 'different'; position: number; eventId: string }
  /** A stream message that is no event envelope (its stream sequence, not a position). */
  | { kind: 'unreadable'; streamSequence: number };

export interface StreamComparison {
  storeHead: number;
  /** Highest position found in the stream (0 when it is empty). */
  streamLastPosition: number;
  /** eventId of the stream's last message, when it has one. */
  streamLastEventId: string | null;
  checked: number;
  findings: StreamFinding[];
}

const BATCH = 500;
/** How long the stream may deliver nothing before the comparison gives up (a NATS node down, a hung connection). */
export const STREAM_IDLE_TIMEOUT_MS = 10_000;

export interface StreamComparisonOptions {
  /** Gives up when no message arrives for this long (default STREAM_IDLE_TIMEOUT_MS). */
  idleTimeoutMs?: number;
  /** Called with the messages read so far and the stream's last sequence: once before the read, then per batch. */
  onProgress?: (read: number, total: number) => void;
}

/** The stream could not be read to its end: the comparison proves nothing, so it is an error, not a finding. */
export class StreamUnreadableError extends CliError {
  override readonly name = 'StreamUnreadableError';
  constructor(message: string) {
    super('stream_unreadable', message);
  }
}

/**
 * Compares every message of the JetStream key stream with the store: each message's envelope must be the
 * store's event at that position, byte for byte after canonical JSON. Messages past the store's head mean
 * the store was truncated (the hash chain alone cannot tell: it is intact up to the new head). Events the
 * stream lacks are no finding: the relay may lag and limits may have aged messages out.
 */
export async function compareWithStream(db: Kysely<Database>, nc: NatsConnection, streamName: string, options: StreamComparisonOptions = {}): Promise<StreamComparison> {
  const idleTimeoutMs = options.idleTimeoutMs ?? STREAM_IDLE_TIMEOUT_MS;
  const storeHead = await headPosition(db);
  const jsm: JetStreamManager = await nc.jetstreamManager();
  const info = await jsm.streams.info(streamName);
  const result: StreamComparison = { storeHead, streamLastPosition: 0, streamLastEventId: null, checked: 0, findings: [] };
  if (info.state.messages === 0) return result;
  const lastSeq = info.state.last_seq;

  let firstPastHead: number | null = null;
  let pending: { position: number; body: Record<string, unknown> }[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const rows = await db.selectFrom('events').selectAll().where('position', 'in', [...new Set(pending.map((p) => p.position))]).execute();
    const stored = new Map(rows.map((row) => [row.position, canonicalJson(toPublicEnvelope(toStoredEvent(row)))]));
    for (const { position, body } of pending) {
      if (canonicalJson(body) !== stored.get(position)) result.findings.push({ kind: 'different', position, eventId: String(body.eventId) });
    }
    pending = [];
  };

  // An ordered consumer (ephemeral, unacknowledged, from the first message) over the whole stream, read up to the
  // last message as it was when the audit started. Under a watchdog: with a node of the cluster down, NATS can
  // leave the consumer's creation or its pulls unanswered, and the read would wait for ever.
  options.onProgress?.(0, lastSeq);
  let read = 0;
  let lastRead = 0;
  let stalled = false;
  let complete = false;
  let messages: ConsumerMessages | null = null;
  let stall: () => void = () => undefined;
  const stalledSignal = new Promise<null>((resolve) => (stall = () => resolve(null)));
  let watchdog: NodeJS.Timeout | undefined;
  const rearm = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      stalled = true;
      messages?.stop();
      stall();
    }, idleTimeoutMs);
  };
  try {
    rearm();
    const consumer = await nc.jetstream().consumers.get(streamName);
    messages = await Promise.race([consumer.consume({ max_messages: BATCH }), stalledSignal]);
    if (messages) {
      for await (const message of messages) {
        rearm();
        read += 1;
        lastRead = message.seq;
        const body = parse(message.data);
        if (body === null) {
          result.findings.push({ kind: 'unreadable', streamSequence: message.seq });
        } else {
          const position = body.position as number;
          result.checked += 1;
          if (position > result.streamLastPosition) {
            result.streamLastPosition = position;
          }
          if (message.seq === lastSeq) result.streamLastEventId = String(body.eventId);
          if (position > storeHead) firstPastHead = firstPastHead === null ? position : Math.min(firstPastHead, position);
          else pending.push({ position, body });
          if (pending.length >= BATCH) await flush();
        }
        if (read % BATCH === 0) options.onProgress?.(read, lastSeq);
        if (message.seq >= lastSeq || message.info.pending === 0) {
          complete = true;
          break;
        }
      }
    }
  } finally {
    clearTimeout(watchdog);
    messages?.stop();
  }
  if (stalled) {
    throw new StreamUnreadableError(
      `stream ${streamName} delivered nothing for ${idleTimeoutMs / 1000} s after ${read} of ${info.state.messages} messages (sequence ${lastRead} of ${lastSeq}); is NATS reachable, with every node of its cluster up? Nothing was compared past that point`,
    );
  }
  if (!complete) {
    throw new StreamUnreadableError(`the read of stream ${streamName} ended at sequence ${lastRead} of ${lastSeq}; nothing was compared past that point`);
  }
  options.onProgress?.(read, lastSeq);
  await flush();
  if (firstPastHead !== null) {
    result.findings.push({ kind: 'truncated', position: storeHead + 1, storeHead, streamLastPosition: result.streamLastPosition });
  }
  result.findings.sort((a, b) => findingOrder(a) - findingOrder(b));
  return result;
}

function findingOrder(finding: StreamFinding): number {
  return finding.kind === 'unreadable' ? -1 : finding.position;
}

function parse(data: Uint8Array): Record<string, unknown> | null {
  try {
    const value = decodeJson(data) as Record<string, unknown> | null;
    if (value && typeof value === 'object' && Number.isSafeInteger(value.position) && (value.position as number) > 0) return value;
  } catch {
    // reported as unreadable
  }
  return null;
}

/** One sentence per finding, naming the position. */
export function describeStreamFinding(finding: StreamFinding, streamName: string): string {
  switch (finding.kind) {
    case 'truncated':
      return `truncated: stream ${streamName} holds events up to position ${finding.streamLastPosition} but the store ends at position ${finding.storeHead}; position ${finding.position} is the first missing from the store`;
    case 'different':
      return `position ${finding.position} differs between the store and stream ${streamName} (stream event ${finding.eventId})`;
    case 'unreadable':
      return `stream ${streamName} message ${finding.streamSequence} is not an event envelope`;
  }
}
