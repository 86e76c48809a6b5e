import { TokenBuckets } from './token-buckets';

describe('TokenBuckets', () => {
  it('allows a burst, then refuses with the seconds until the next token', () => {
    const buckets = new TokenBuckets(2, 3);
    const results = [0, 0, 0, 0].map(() => buckets.take(1, 1000));
    expect(results.slice(0, 3)).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(results[3]).toEqual({ ok: false, retryAfterSeconds: 1 });
  });

  it('refills at the sustained rate', () => {
    const buckets = new TokenBuckets(2, 2);
    buckets.take(1, 0);
    buckets.take(1, 0);
    expect(buckets.take(1, 0).ok).toBe(false);
    expect(buckets.take(1, 500).ok).toBe(true); // 0.5 s at 2/s = one token
    expect(buckets.take(1, 600).ok).toBe(false);
  });

  it('keeps callers apart', () => {
    const buckets = new TokenBuckets(1, 1);
    expect(buckets.take(1, 0).ok).toBe(true);
    expect(buckets.take(1, 0).ok).toBe(false);
    expect(buckets.take(2, 0).ok).toBe(true);
  });

  it('forgets callers whose bucket is full again when it tracks too many', () => {
    const buckets = new TokenBuckets(10, 10, 2);
    buckets.take(1, 0);
    buckets.take(2, 0);
    buckets.take(3, 5000);
    expect(buckets.tracked).toBe(1);
  });

  it('exhausted() looks without taking, keyed by any value (client IPs)', () => {
    const buckets = new TokenBuckets<string>(1, 2);
    expect(buckets.exhausted('198.51.100.7', 0)).toBeNull();
    buckets.take('198.51.100.7', 0);
    expect(buckets.exhausted('198.51.100.7', 0)).toBeNull();
    buckets.take('198.51.100.7', 0);
    expect(buckets.exhausted('198.51.100.7', 0)).toBe(1);
    expect(buckets.exhausted('198.51.100.7', 0)).toBe(1); // looking took nothing
    expect(buckets.exhausted('203.0.113.9', 0)).toBeNull();
    expect(buckets.exhausted('198.51.100.7', 1000)).toBeNull();
  });
});
