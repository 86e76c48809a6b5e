/**
 * Waits for `work` at most `ms`; resolves false when it took longer (the work goes on unobserved). For shutdown
 * steps that talk to a server that may be gone: draining a NATS connection, closing a pool.
 */
export async function within(ms: number, work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Retries `attempt` with exponential backoff (250 ms doubling to 5 s) until it succeeds, telling `onFailure` about
 * each failure. For what an app needs before it can start (its database): a service that is still starting is
 * the common case, and exiting would only make a supervisor restart it in a loop.
 */
export async function retryUntilReady<T>(attempt: () => Promise<T>, onFailure: (error: Error, retryInMs: number, failures: number) => void): Promise<T> {
  let delay = 250;
  for (let failures = 1; ; failures++) {
    try {
      return await attempt();
    } catch (error) {
      onFailure(error as Error, delay, failures);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
}
