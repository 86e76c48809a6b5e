import { WaitForTimeoutError, waitFor } from './wait-for';

describe('waitFor', () => {
  it('resolves with the first truthy value', async () => {
    let calls = 0;
    await expect(waitFor(() => (++calls >= 3 ? 'ok' : null), { timeoutMs: 1000, intervalMs: 1 })).resolves.toBe('ok');
  });

  it('gives up at its deadline even when the predicate never settles', async () => {
    const started = Date.now();
    await expect(waitFor(() => new Promise<boolean>(() => undefined), { timeoutMs: 200, intervalMs: 10 })).rejects.toBeInstanceOf(WaitForTimeoutError);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
