import { Logger } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { usageSubject } from '@keys/bus';
import { counter, within } from '@keys/platform';

const usageEntries = counter({ name: 'keys_usage_entries_published_total', help: 'Keys reported in usage batches (their last VALID verification)' });
const usageMessages = counter({
  name: 'keys_usage_messages_total',
  help: 'Usage messages of the flush, by outcome (published, or held for the next flush while NATS is away)',
  labelNames: ['outcome'],
});

const INITIAL_SLOTS = 1024;
/** Bytes of one `[keyId,ms],` entry at most (15 + 13 digits, brackets, comma), for chunking. */
const ENTRY_BYTES = 32;
/** Room for `{"instance":…,"batch":[]}` and NATS framing. */
const ENVELOPE_BYTES = 512;

/**
 * The last VALID verification of each key since the last flush, by index slot. On the hot path only two
 * typed-array writes (and an append the first time a slot is used in an interval): no allocation, no I/O.
 * Slots are never reused by the index, so a slot names one key for good.
 */
export class KeyUsage {
  /** Epoch ms of the last use since the last take(), 0 when unused. */
  private usedAt = new Float64Array(INITIAL_SLOTS);
  private keyIds = new Float64Array(INITIAL_SLOTS);
  /** Slots used since the last take(), each once: never more than there are slots. */
  private usedSlots = new Int32Array(INITIAL_SLOTS);
  private usedCount = 0;

  record(slot: number, keyId: number, nowMs: number): void {
    if (slot >= this.usedAt.length) this.grow(slot + 1);
    if (this.usedAt[slot] === 0) {
      this.usedSlots[this.usedCount++] = slot;
      this.keyIds[slot] = keyId;
    }
    if (nowMs > this.usedAt[slot]) this.usedAt[slot] = nowMs;
  }

  /** Keys used since the last take(). */
  get pending(): number {
    return this.usedCount;
  }

  /** The [keyId, lastUsedMs] pairs since the last take(), and forgets them. */
  take(): Array<[number, number]> {
    const entries: Array<[number, number]> = new Array(this.usedCount);
    for (let i = 0; i < this.usedCount; i++) {
      const slot = this.usedSlots[i];
      entries[i] = [this.keyIds[slot], this.usedAt[slot]];
      this.usedAt[slot] = 0;
    }
    this.usedCount = 0;
    return entries;
  }

  private grow(slots: number): void {
    const size = Math.max(slots, this.usedAt.length * 2);
    const usedAt = new Float64Array(size);
    usedAt.set(this.usedAt);
    const keyIds = new Float64Array(size);
    keyIds.set(this.keyIds);
    const usedSlots = new Int32Array(size);
    usedSlots.set(this.usedSlots.subarray(0, this.usedCount));
    this.usedAt = usedAt;
    this.keyIds = keyIds;
    this.usedSlots = usedSlots;
  }
}

/** JSON messages of at most `maxPayload` bytes carrying `entries` (docs/asyncapi.yaml, the usage channel). */
export function encodeUsageMessages(instance: string, entries: ReadonlyArray<readonly [number, number]>, maxPayload: number): Uint8Array[] {
  const perMessage = Math.max(1, Math.floor((maxPayload - ENVELOPE_BYTES - instance.length) / ENTRY_BYTES));
  const messages: Uint8Array[] = [];
  for (let from = 0; from < entries.length; from += perMessage) {
    messages.push(Buffer.from(JSON.stringify({ instance, batch: entries.slice(from, from + perMessage) })));
  }
  return messages;
}

/**
 * Every `flushIntervalMs`, publishes the keys used since the last flush on `<prefix>.usage` (core NATS, no
 * acknowledgement: a lost batch only makes lastUsedAt older) and once more at shutdown. While NATS is away the
 * usage stays in KeyUsage and goes with the next flush.
 */
export class UsagePublisher {
  private readonly logger = new Logger('usage');
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly usage: KeyUsage,
    private readonly connection: () => NatsConnection | null,
    private readonly options: { subjectPrefix: string; instance: string; flushIntervalMs: number },
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.flush(), this.options.flushIntervalMs);
    this.timer.unref();
  }

  /** Publishes what is pending; false when NATS is not connected (the usage is kept). */
  flush(): boolean {
    if (this.usage.pending === 0) return true;
    const nc = this.connection();
    if (!nc || nc.isClosed()) {
      usageMessages.labels('held').inc();
      return false;
    }
    const entries = this.usage.take();
    try {
      for (const message of encodeUsageMessages(this.options.instance, entries, nc.info?.max_payload ?? 1024 * 1024)) {
        nc.publish(usageSubject(this.options.subjectPrefix), message);
        usageMessages.labels('published').inc();
      }
      usageEntries.inc(entries.length);
    } catch (error) {
      // Telemetry: dropping it makes lastUsedAt older at worst.
      this.logger.warn(`could not publish key usage: ${(error as Error).message}`);
    }
    return true;
  }

  /** Stops the timer and publishes the rest, waiting at most `boundMs` for NATS to take it. */
  async stop(boundMs = 1000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (!this.flush()) return;
    const nc = this.connection();
    if (nc && !nc.isClosed()) await within(boundMs, nc.flush()).catch(() => undefined);
  }
}
