/** The key changed under us more often than the retry budget allows (DESIGN §3.2 → 409 concurrent_update). */
export class ConcurrentUpdateError extends Error {
  override readonly name = 'ConcurrentUpdateError';
  constructor(readonly streamId: string) {
    super(`the key changed concurrently too many times (${streamId}); retry the request`);
  }
}
