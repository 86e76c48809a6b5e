/** The part of a logger a ThrottledWarning needs (Nest's Logger fits). */
export interface WarningSink {
  warn(message: string): void;
}

/**
 * Logs one warning per interval and counts the rest into the next one. For warnings an outsider can trigger
 * at will (bad messages on the bus, say): without it each one is a log line, and a flood of them fills the
 * disk. The metric next to such a warning counts every occurrence; the log only says that it happens.
 */
export class ThrottledWarning {
  private lastAt = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  constructor(
    private readonly sink: WarningSink,
    private readonly intervalMs = 60_000,
  ) {}

  /** Returns whether the warning was logged. */
  warn(message: string, now = Date.now()): boolean {
    if (now - this.lastAt < this.intervalMs) {
      this.suppressed++;
      return false;
    }
    const more = this.suppressed > 0 ? ` (and ${this.suppressed} more since the last such warning)` : '';
    this.suppressed = 0;
    this.lastAt = now;
    this.sink.warn(`${message}${more}`);
    return true;
  }
}
