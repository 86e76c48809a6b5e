import { Logger } from '@nestjs/common';
import { DomainError } from '@keys/domain';
import { type CommandDb, type KeyCommandService, type RequestContext, findKeysDueToExpire } from '@keys/key-service';
import { randomUUID } from 'node:crypto';

const SWEEP_BATCH = 200;

/**
 * Appends KeyExpired for every key whose expiresAt has passed, every `intervalMs`. Safe with several
 * command instances: ExpireKey on an expired key decides nothing, and the stream version check makes
 * the loser of a race re-read and find it already expired — so each key gets exactly one KeyExpired.
 */
export class ExpirySweep {
  private readonly logger = new Logger('expiry-sweep');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly db: CommandDb,
    private readonly keys: KeyCommandService,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.sweep().then(() => undefined).finally(() => (this.running = null));
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass; returns how many keys it expired. */
  async sweep(): Promise<number> {
    let expired = 0;
    try {
      const due = await findKeysDueToExpire(this.db, this.keys.now(), SWEEP_BATCH);
      const ctx: RequestContext = { actor: { type: 'system', name: 'expiry-sweep' }, ipAddress: null, userAgent: null, correlationId: randomUUID() };
      for (const keyId of due) {
        try {
          const change = await this.keys.changeKey(keyId, null, (_state, now) => [{ type: 'ExpireKey', keyId, now }], ctx);
          if (change.events.length) expired += 1;
        } catch (err) {
          // The expiry was moved or the key deleted meanwhile: nothing to do for it now.
          if (!(err instanceof DomainError)) throw err;
        }
      }
    } catch (err) {
      this.logger.warn(`sweep failed: ${(err as Error).message}`);
    }
    return expired;
  }
}
