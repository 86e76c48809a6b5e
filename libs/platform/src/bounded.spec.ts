import { retryUntilReady, within } from './bounded';

describe('within', () => {
  it('says whether the work finished in time, failures included', async () => {
    expect(await within(1000, Promise.resolve())).toBe(true);
    expect(await within(1000, Promise.reject(new Error('x')))).toBe(true);
    expect(await within(20, new Promise(() => undefined))).toBe(false);
  });
});

describe('retryUntilReady', () => {
  it('retries with growing delays until the attempt succeeds, reporting each failure', async () => {
    const reported: Array<[string, number, number]> = [];
    let calls = 0;
    const value = await retryUntilReady(
      async () => {
        calls++;
        if (calls < 3) throw new Error(`down ${calls}`);
        return 'up';
      },
      (error, retryInMs, failures) => reported.push([error.message, retryInMs, failures]),
    );
    expect(value).toBe('up');
    expect(reported).toEqual([
      ['down 1', 250, 1],
      ['down 2', 500, 2],
    ]);
  });
});
