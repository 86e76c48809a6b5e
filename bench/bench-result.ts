/** One line of bench/results.json. `ratio` is value/baseline where a baseline exists. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline: number | null;
  ratio: number | null;
  target: string;
  met: boolean;
  /** Extra numbers worth keeping (e.g. p50 alongside p99); not part of the target. */
  notes?: Record<string, number | string>;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/** Runs `worker` on `concurrency` lanes until `durationMs` has passed; returns completed operations per second. */
export async function throughput(concurrency: number, durationMs: number, worker: (lane: number) => Promise<void>): Promise<number> {
  let done = 0;
  const deadline = Date.now() + durationMs;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      while (Date.now() < deadline) {
        await worker(lane);
        done += 1;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return done / seconds;
}

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

/**
 * Per benchmark, the median run (by ratio where there is a baseline, else by value): with an odd number of runs it
 * is one real run, so its `met` is exactly "the median meets the target". The spread of the runs is in the notes.
 */
export function medians(runs: BenchResult[]): BenchResult[] {
  const byName = new Map<string, BenchResult[]>();
  for (const run of runs) byName.set(run.name, [...(byName.get(run.name) ?? []), run]);
  return [...byName.values()].map((all) => {
    const key = (r: BenchResult) => r.ratio ?? r.value;
    const sorted = [...all].sort((a, b) => key(a) - key(b));
    const median = sorted[Math.floor((sorted.length - 1) / 2)];
    const values = all.map(key);
    return {
      ...median,
      notes: { ...median.notes, runs: all.length, spread: `${Math.min(...values)}..${Math.max(...values)}` },
    };
  });
}
