/** The key changed under us more often than the retry budget allows (HTTP 409 concurrent_update, docs/api.md). */
export class ConcurrentUpdateError extends Error {
  override readonly name = 'ConcurrentUpdateError';
  constructor(readonly streamId: string) {
    super(`the key changed concurrently too many times (${streamId}); retry the request`);
  }
}
