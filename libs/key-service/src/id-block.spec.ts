import { IdBlock } from './id-block';
import { KeyedMutex } from './keyed-mutex';

describe('IdBlock', () => {
  it('hands out every fetched id once, sharing one refill between concurrent callers', async () => {
    let next = 1;
    const fetches: number[] = [];
    const block = new IdBlock(async (count) => {
      fetches.push(count);
      await new Promise((r) => setTimeout(r, 5));
      return Array.from({ length: count }, () => next++);
    }, 4);
    const ids = await Promise.all(Array.from({ length: 10 }, () => block.next()));
    expect([...ids].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(fetches).toEqual([4, 4, 4]);
  });
});

describe('KeyedMutex', () => {
  it('runs work for one key one at a time, in arrival order, and other keys in parallel', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const job = (key: string, name: string, ms: number) =>
      mutex.run(key, async () => {
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
      });
    await Promise.all([job('a', 'a1', 20), job('a', 'a2', 1), job('b', 'b1', 1)]);
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
  });

  it('keeps going after a failed job', async () => {
    const mutex = new KeyedMutex();
    await expect(mutex.run('k', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(mutex.run('k', async () => 'ok')).resolves.toBe('ok');
  });
});
