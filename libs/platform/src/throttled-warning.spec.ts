import { ThrottledWarning } from './throttled-warning';

describe('ThrottledWarning', () => {
  it('logs the first warning, counts the ones within the interval into the next logged one', () => {
    const lines: string[] = [];
    const warning = new ThrottledWarning({ warn: (m) => lines.push(m) }, 1000);
    expect(warning.warn('bad message', 0)).toBe(true);
    for (let t = 1; t < 1000; t += 10) expect(warning.warn('bad message', t)).toBe(false);
    expect(lines).toEqual(['bad message']);
    expect(warning.warn('bad message', 1000)).toBe(true);
    expect(lines[1]).toBe('bad message (and 100 more since the last such warning)');
    expect(warning.warn('bad message', 2500)).toBe(true);
    expect(lines[2]).toBe('bad message');
  });
});
