/**
 * Hands out ids from a block fetched in one round trip, refilling when empty; concurrent callers share
 * one refill. Ids left in a block when the process stops are never used (ids may have gaps, never repeats).
 */
export class IdBlock {
  private ids: number[] = [];
  private refill: Promise<void> | null = null;

  constructor(
    private readonly fetch: (count: number) => Promise<number[]>,
    private readonly size: number,
  ) {}

  async next(): Promise<number> {
    for (;;) {
      const id = this.ids.shift();
      if (id !== undefined) return id;
      this.refill ??= this.fetch(this.size)
        .then((ids) => {
          this.ids.push(...ids);
        })
        .finally(() => (this.refill = null));
      await this.refill;
    }
  }
}
