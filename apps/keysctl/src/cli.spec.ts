import { progress, table } from './cli';

describe('progress', () => {
  let written: string[];
  const stream = (isTTY: boolean) => ({ isTTY, write: (chunk: string) => written.push(chunk) });

  beforeEach(() => {
    written = [];
    jest.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
  });
  afterEach(() => jest.useRealTimers());

  it('writes a plain line every interval when stderr is not a terminal, with percentage and rate', () => {
    const p = progress('verified', { stream: stream(false), lineIntervalMs: 2000 });
    p.update(1000, 10_000); // too soon
    jest.setSystemTime(new Date('2030-01-01T00:00:02Z'));
    p.update(4000, 10_000);
    jest.setSystemTime(new Date('2030-01-01T00:00:03Z'));
    p.update(6000, 10_000); // too soon after the last line
    jest.setSystemTime(new Date('2030-01-01T00:00:04Z'));
    p.update(10_000, 10_000);
    p.finish();
    expect(written).toEqual(['verified 4000/10000 events (40%), 2000 events/s\n', 'verified 10000/10000 events (100%), 2500 events/s\n']);
  });

  it('stays silent for a run shorter than one interval', () => {
    const p = progress('verified', { stream: stream(false) });
    p.update(10, 10);
    p.finish();
    expect(written).toEqual([]);
  });

  it('redraws one bar on a terminal and clears it at the end', () => {
    const p = progress('replayed', { stream: stream(true) });
    jest.setSystemTime(new Date('2030-01-01T00:00:01Z'));
    p.update(50, 100);
    p.finish();
    expect(written[0]).toBe('\r[############------------] replayed 50/100 events (50%), 50 events/s\x1b[K');
    expect(written[1]).toBe('\r\x1b[K');
  });
});

describe('table', () => {
  it('aligns columns without trailing padding', () => {
    expect(table(['ID', 'NAME'], [['1', 'a'], ['10', 'bb']])).toBe('ID  NAME\n1   a\n10  bb');
  });
});
