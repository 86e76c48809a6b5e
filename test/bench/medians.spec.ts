import { type BenchResult, medians } from '../../bench/bench-result';

const run = (name: string, value: number, ratio: number | null, met: boolean): BenchResult => ({ name, value, unit: 'x', baseline: ratio === null ? null : 1, ratio, target: 't', met });

describe('bench medians', () => {
  it('reports the median run per benchmark (by ratio when there is a baseline), with the spread and the number of runs', () => {
    const results = medians([run('a', 10, 0.4, false), run('b', 5, null, true), run('a', 30, 0.6, true), run('a', 20, 0.5, true), run('b', 9, null, false), run('b', 7, null, true)]);
    expect(results).toEqual([
      { ...run('a', 20, 0.5, true), notes: { runs: 3, spread: '0.4..0.6' } },
      { ...run('b', 7, null, true), notes: { runs: 3, spread: '5..9' } },
    ]);
  });

  it('decides met on the median, not on the best run', () => {
    const [result] = medians([run('lag', 12, null, false), run('lag', 4, null, true), run('lag', 15, null, false)]);
    expect(result.met).toBe(false);
    expect(result.value).toBe(12);
  });
});
