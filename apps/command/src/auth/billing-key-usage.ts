import { Logger } from '@nestjs/common';
import { type ReadModelDatabase, recordKeyUsage } from '@keys/read-models';
import type { Kysely } from 'kysely';
import { counter, within } from '@keys/platform';

const flushes = counter({ name: 'keys_billing_usage_flushes_total', help: 'Writes of billing-key last use to key_usage, by outcome', labelNames: ['outcome'] });

/**
 * lastUsedAt for billing keys: the command authenticates them itself (StoreKeyVerifier), so it also records their
 * last successful use, in memory per key, and every `flushIntervalMs` raises key_usage to it (recordKeyUsage: by
 * max, like the verifiers' usage batches for proxy keys, so several instances and restarts agree). A failed write
 * keeps the entries for the next flush; an instance killed before flushing loses at most one interval of it.
 */
export class BillingKeyUsage {
  private readonly logger = new Logger('usage');
  private pending = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly db: Kysely<ReadModelDatabase>,
    private readonly flushIntervalMs: number,
  ) {}

  record(keyId: number, nowMs: number): void {
    if ((this.pending.get(keyId) ?? 0) < nowMs) this.pending.set(keyId, nowMs);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.flushIntervalMs);
    this.timer.unref();
  }

  /** Writes what is pending (one at a time); failures are kept for the next flush. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = null));
    return this.flushing;
  }

  /** Stops the timer and writes the rest, waiting at most `boundMs` (Postgres may be gone). */
  async stop(boundMs = 1000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await within(boundMs, this.flush());
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const entries = [...this.pending];
    this.pending = new Map();
    try {
      await recordKeyUsage(this.db, entries, Date.now());
      flushes.labels('written').inc();
    } catch (error) {
      for (const [keyId, ms] of entries) this.record(keyId, ms);
      flushes.labels('failed').inc();
      this.logger.warn(`could not write billing-key usage: ${(error as Error).message}`);
    }
  }
}
