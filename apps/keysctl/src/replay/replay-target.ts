import { type NatsConnection, headers } from 'nats';
import { encodeEnvelope } from '@keys/bus';
import type { EventEnvelope } from '@keys/domain';

/** Where a replay publishes: one subject, through JetStream when a stream captures it, else core NATS. */
export interface ReplayTarget {
  readonly subject: string;
  /** The JetStream stream that captures the subject, or null when it is published on core NATS. */
  readonly stream: string | null;
  /** 'duplicate' when JetStream already held this eventId (inside the stream's duplicate window). */
  publish(envelope: EventEnvelope): Promise<'published' | 'duplicate'>;
  /** Resolves once everything published so far has reached the server. */
  flush(): Promise<void>;
}

const FLUSH_TIMEOUT_MS = 10_000;

export async function openReplayTarget(nc: NatsConnection, subject: string): Promise<ReplayTarget> {
  const stream = await streamCapturing(nc, subject);
  if (stream !== null) {
    const js = nc.jetstream();
    return {
      subject,
      stream,
      async publish(envelope) {
        // Awaited one by one, like the relay: order is kept, and Nats-Msg-Id = eventId lets the stream
        // drop what a previous, interrupted run already delivered.
        const ack = await js.publish(subject, encodeEnvelope(envelope), { msgID: envelope.eventId, timeout: 5000 });
        return ack.duplicate ? 'duplicate' : 'published';
      },
      flush: async () => undefined,
    };
  }
  return {
    subject,
    stream: null,
    async publish(envelope) {
      // Same header as on JetStream, so a subscriber can de-duplicate a resumed replay itself.
      const h = headers();
      h.set('Nats-Msg-Id', envelope.eventId);
      nc.publish(subject, encodeEnvelope(envelope), { headers: h });
      return 'published';
    },
    flush: () => withTimeout(nc.flush(), FLUSH_TIMEOUT_MS, 'NATS did not confirm the published events'),
  };
}

/** Name of the stream that captures `subject`, or null (no JetStream, or no stream listens there). */
async function streamCapturing(nc: NatsConnection, subject: string): Promise<string | null> {
  let jsm;
  try {
    jsm = await nc.jetstreamManager();
  } catch {
    return null; // JetStream is not enabled for this account
  }
  try {
    return await jsm.streams.find(subject);
  } catch (err) {
    if (/no stream matches subject/i.test((err as Error).message)) return null;
    throw err;
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
