export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

export class WaitForTimeoutError extends Error {
  constructor(timeoutMs: number, lastError: unknown) {
    const detail = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
    super(`condition not met within ${timeoutMs} ms${detail}`);
    this.name = 'WaitForTimeoutError';
  }
}

/**
 * Polls `predicate` until it returns a truthy value and resolves with that value. A predicate that
 * throws counts as "not yet"; the last error is reported on timeout.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  { timeoutMs = 5000, intervalMs = 25 }: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      // A predicate that never settles (a request to a server that went away) must not outlast the deadline.
      const value = await beforeDeadline(predicate(), deadline);
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) throw new WaitForTimeoutError(timeoutMs, lastError);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

async function beforeDeadline<T>(value: T | Promise<T>, deadline: number): Promise<T | undefined> {
  if (!(value instanceof Promise)) return value;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([value, late]);
  } finally {
    clearTimeout(timer);
  }
}
