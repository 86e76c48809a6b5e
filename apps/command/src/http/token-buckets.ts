/**
 * Per-caller token buckets: `ratePerSecond` sustained, up to `burst` at once. Pure (time comes in), so the
 * rule is tested without a clock. A bucket that has refilled completely carries no information and is
 * dropped when the map grows, so memory follows the number of recently active callers.
 */
export class TokenBuckets<Id = number> {
  private readonly buckets = new Map<Id, { tokens: number; atMs: number }>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly maxTracked = 10_000,
  ) {}

  /** Takes one token for `id`; when none is left, says how many seconds until one is. */
  take(id: Id, nowMs: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const bucket = this.buckets.get(id) ?? { tokens: this.burst, atMs: nowMs };
    const tokens = Math.min(this.burst, bucket.tokens + ((nowMs - bucket.atMs) / 1000) * this.ratePerSecond);
    if (tokens < 1) {
      this.buckets.set(id, { tokens, atMs: nowMs });
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / this.ratePerSecond)) };
    }
    if (!this.buckets.has(id) && this.buckets.size >= this.maxTracked) this.dropFull(nowMs);
    this.buckets.set(id, { tokens: tokens - 1, atMs: nowMs });
    return { ok: true };
  }

  /** Like take, but only looks: null when a token is available, else the seconds until one is. */
  exhausted(id: Id, nowMs: number): number | null {
    const bucket = this.buckets.get(id);
    if (!bucket) return null;
    const tokens = Math.min(this.burst, bucket.tokens + ((nowMs - bucket.atMs) / 1000) * this.ratePerSecond);
    return tokens >= 1 ? null : Math.max(1, Math.ceil((1 - tokens) / this.ratePerSecond));
  }

  get tracked(): number {
    return this.buckets.size;
  }

  private dropFull(nowMs: number): void {
    const fullAfterMs = (this.burst / this.ratePerSecond) * 1000;
    for (const [id, bucket] of this.buckets) if (nowMs - bucket.atMs >= fullAfterMs) this.buckets.delete(id);
  }
}
