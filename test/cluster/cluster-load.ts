import type { NatsConnection } from 'nats';
import { decodeEnvelope, verifySubject } from '@keys/bus';

export interface Api {
  post(path: string, body: unknown): Promise<{ status: number; body: any }>;
  delete(path: string): Promise<{ status: number; body: any }>;
}

/**
 * Plain HTTP to the command API. Not the fixtures' apiClient: that one holds every answer to the OpenAPI
 * document, which is another test's job and would cost this load CPU on a 2-core machine.
 */
export function plainApi(baseUrl: string, billingKey: string): Api {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${billingKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  return { post: (path, body) => call('POST', path, body), delete: (path) => call('DELETE', path) };
}

/** What the answered writes say about one key, as the load saw them. */
interface KeyRecord {
  id: number;
  key: string;
  /** When the DELETE was sent; from then on it may or may not have happened. */
  deleteSentAt?: number;
  /** When the DELETE answered 200; from then on it has happened. */
  deletedAt?: number;
}

export interface WrongVerdict {
  key: string;
  code: string;
  expected: string;
  sentAt: number;
}

export interface LoadWindow {
  sent: number;
  answered: number;
  failed: number;
  failedFraction: number;
  /** Longest stretch without any verify answered, from the window's start to its end. */
  maxGapMs: number;
  writes: number;
}

const VERIFY_TIMEOUT_MS = 1000;

/**
 * Writes (create, delete over HTTP, alternating between command instances) and verifies (over NATS, several in
 * flight), and the invariant on every answer: it agrees with every write that had answered before the verify was
 * sent. Created and not yet being deleted: VALID. DELETE answered: DELETED. DELETE in flight (or failed, so
 * unknown): either.
 */
export class ClusterLoad {
  readonly wrongVerdicts: WrongVerdict[] = [];
  private readonly keys: KeyRecord[] = [];
  private readonly live: KeyRecord[] = [];
  /** [sentAt, answeredAt | null] of every verify. */
  private readonly verifies: Array<[number, number | null]> = [];
  private readonly writeTimes: number[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private n = 0;
  /** The last write or verify failure, for messages. */
  lastError: string | undefined;

  constructor(
    private readonly apis: Api[],
    readonly nc: NatsConnection,
    private readonly subjectPrefix: string,
    private readonly options: { verifiers: number; liveKeys: number; writePauseMs: number; verifyPauseMs: number } = { verifiers: 4, liveKeys: 20, writePauseMs: 20, verifyPauseMs: 5 },
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = [this.writeLoop(), ...Array.from({ length: this.options.verifiers }, () => this.verifyLoop())];
  }

  /** Stops sending and waits for what is in flight (so the store stops moving). */
  async quiesce(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  async stop(): Promise<void> {
    await this.quiesce();
    await this.nc.close().catch(() => undefined);
  }

  answered(): number {
    return this.verifies.filter(([, at]) => at !== null).length;
  }

  writes(): number {
    return this.writeTimes.length;
  }

  verify(key: string): Promise<{ code: string }> {
    return this.nc
      .request(verifySubject(this.subjectPrefix), new TextEncoder().encode(JSON.stringify({ key, scope: 'proxy' })), { timeout: VERIFY_TIMEOUT_MS })
      .then((reply) => JSON.parse(new TextDecoder().decode(reply.data)) as { code: string });
  }

  window(from: number, to: number): LoadWindow {
    const inWindow = this.verifies.filter(([sentAt]) => sentAt >= from && sentAt <= to);
    const answers = this.verifies.map(([, at]) => at).filter((at): at is number => at !== null && at >= from && at <= to).sort((a, b) => a - b);
    let maxGapMs = 0;
    let previous = Math.max(from, this.verifies[0]?.[0] ?? from);
    for (const at of [...answers, to]) {
      maxGapMs = Math.max(maxGapMs, at - previous);
      previous = at;
    }
    const answered = inWindow.filter(([, at]) => at !== null).length;
    const failed = inWindow.length - answered;
    return {
      sent: inWindow.length,
      answered,
      failed,
      failedFraction: inWindow.length ? failed / inWindow.length : 0,
      maxGapMs,
      writes: this.writeTimes.filter((t) => t >= from && t <= to).length,
    };
  }

  private async writeLoop(): Promise<void> {
    while (this.running) {
      const api = this.apis[this.n++ % this.apis.length];
      try {
        if (this.live.length >= this.options.liveKeys) {
          const record = this.live.shift()!;
          record.deleteSentAt = Date.now();
          const res = await api.delete(`/api/keys/${record.id}`);
          if (res.status === 200) record.deletedAt = Date.now();
          this.writeTimes.push(Date.now());
        } else {
          const res = await api.post('/api/keys', { name: `load-${this.n}` });
          if (res.status !== 201) this.lastError = `POST /api/keys: ${res.status} ${JSON.stringify(res.body)}`;
          if (res.status === 201) {
            const record: KeyRecord = { id: res.body.id, key: res.body.key };
            this.keys.push(record);
            this.live.push(record);
            this.writeTimes.push(Date.now());
          }
        }
      } catch (err) {
        this.lastError = String(err);
        // The HTTP call itself failed (instance going away): the write's outcome is unknown, which the
        // invariant already allows for (a DELETE without an answer may or may not have happened).
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.writePauseMs));
    }
  }

  private async verifyLoop(): Promise<void> {
    while (this.running) {
      const record = this.keys.length ? this.keys[Math.floor(Math.random() * Math.min(this.keys.length, 60)) + Math.max(0, this.keys.length - 60)] : undefined;
      if (!record) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      const sentAt = Date.now();
      const entry: [number, number | null] = [sentAt, null];
      this.verifies.push(entry);
      // Read before the request: what had answered by the time it was sent.
      const deletedBefore = record.deletedAt !== undefined && record.deletedAt <= sentAt;
      try {
        const { code } = await this.verify(record.key);
        entry[1] = Date.now();
        // A DELETE sent after this answer cannot have been applied before it.
        const notDeleting = record.deleteSentAt === undefined || record.deleteSentAt > entry[1];
        if (deletedBefore && code !== 'DELETED') this.wrongVerdicts.push({ key: record.key, code, expected: 'DELETED', sentAt });
        else if (notDeleting && code !== 'VALID') this.wrongVerdicts.push({ key: record.key, code, expected: 'VALID', sentAt });
        else if (code !== 'VALID' && code !== 'DELETED') this.wrongVerdicts.push({ key: record.key, code, expected: 'VALID or DELETED', sentAt });
      } catch (err) {
        this.lastError = String(err);
        // No answer (timeout, no responders): counted as failed, not wrong.
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.verifyPauseMs));
    }
  }
}

type StreamEntry = { seq: number; msgId?: string; eventId: string; position: number };

/**
 * Every message in the stream up to its last sequence at the call, in sequence order, read one message at a time
 * from the stream leader (16 requests in flight) and each retried until `deadlineMs`. Not through a consumer: with
 * a node down, nats-server 2.9 leaves some consumer creations unanswered for seconds after an election (an ordered
 * consumer then retries with no end), while message gets are answered.
 */
export async function streamEventIds(nc: NatsConnection, stream: string, deadlineMs = 60_000): Promise<StreamEntry[]> {
  const deadline = Date.now() + deadlineMs;
  // Each of these is a request, which nats.js bounds by its timeout.
  const jsm = await nc.jetstreamManager();
  const { state } = await jsm.streams.info(stream);
  const out = new Array<StreamEntry>(Math.max(0, state.last_seq - state.first_seq + 1));
  let next = state.first_seq;
  let lastError = '';
  const lane = async () => {
    for (let seq = next++; seq <= state.last_seq; seq = next++) {
      for (;;) {
        try {
          const msg = await jsm.streams.getMessage(stream, { seq });
          const envelope = decodeEnvelope(msg.data) as { eventId: string; position: number };
          out[seq - state.first_seq] = { seq, msgId: msg.header?.get('Nats-Msg-Id'), eventId: envelope.eventId, position: envelope.position };
          break;
        } catch (err) {
          lastError = `message ${seq}: ${(err as Error).message}`;
          if (Date.now() > deadline) throw new Error(`reading stream ${stream} (${state.first_seq}..${state.last_seq}) ran out of ${deadlineMs} ms; last error: ${lastError}`);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, lane));
  return out;
}
