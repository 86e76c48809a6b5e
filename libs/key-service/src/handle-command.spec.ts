import { DomainError, type EventEnvelope, type KeyCommand, type KeyEvent, type KeyState, keyDecider } from '@keys/domain';
import { type AppendOptions, type AppendRequest, StreamVersionConflictError } from '@keys/event-store';
import { type CommandStore, type StreamCommand, handleCommand } from './handle-command';
import { ConcurrentUpdateError } from './key-service.errors';

const NOW = '2030-01-01T00:00:00.000Z';
const metadata = { actor: { type: 'operator' as const, name: 'test' }, ipAddress: null, userAgent: null, correlationId: 'c' };

/** The store as the handler sees it, in memory: version checks and atomic multi-stream appends like the real one. */
class FakeStore implements CommandStore {
  readonly streams = new Map<string, EventEnvelope[]>();
  readonly appends: Array<{ requests: AppendRequest[]; options?: AppendOptions }> = [];
  private position = 0;
  /** Runs before an append's check: a writer that gets in first. */
  beforeAppend: (() => void) | null = null;

  async readStream(streamId: string): Promise<EventEnvelope[]> {
    return [...(this.streams.get(streamId) ?? [])];
  }

  async appendAll(requests: AppendRequest[], options?: AppendOptions): Promise<EventEnvelope[][]> {
    this.appends.push({ requests, options });
    this.beforeAppend?.();
    for (const r of requests) {
      const actual = this.streams.get(r.streamId)?.length ?? 0;
      if (actual !== r.expectedVersion) throw new StreamVersionConflictError(r.streamId, r.expectedVersion, actual);
    }
    return requests.map((r) => this.write(r));
  }

  write(r: AppendRequest): EventEnvelope[] {
    const stream = this.streams.get(r.streamId) ?? [];
    const envelopes = r.events.map(
      ({ metadata: m, occurredAt, ...event }, i) =>
        ({ ...event, eventId: `e${this.position + i + 1}`, position: ++this.position, streamId: r.streamId, streamVersion: stream.length + i + 1, occurredAt: occurredAt ?? NOW, metadata: m }) as EventEnvelope,
    );
    this.streams.set(r.streamId, [...stream, ...envelopes]);
    return envelopes;
  }
}

const created = (keyId: number): KeyEvent => ({
  type: 'KeyCreated',
  data: { keyId, accountId: 1, keyType: 'proxy', name: 'first', prefix: 'pk_abc', hash: `h${keyId}`, expiresAt: null },
});

function keyStream(keyId: number, commands: (state: KeyState) => KeyCommand[], stored?: EventEnvelope[]): StreamCommand<KeyState, KeyCommand, KeyEvent> {
  return {
    streamId: `key-${keyId}`,
    decider: keyDecider,
    eventOf: (e) => (e.type === 'AccountCreated' ? null : e),
    accountOf: (s) => (s.exists ? s.accountId : null),
    stored,
    commands,
  };
}

const rename = (keyId: number, name: string) => keyStream(keyId, () => [{ type: 'RenameKey', keyId, name, now: NOW }]);
const options = { metadata, clock: () => NOW, maxAttempts: 3 };

function storeWithKey(keyId: number): FakeStore {
  const store = new FakeStore();
  store.write({ streamId: `key-${keyId}`, expectedVersion: 0, accountId: 1, events: [{ ...created(keyId), metadata }] });
  return store;
}

describe('handleCommand', () => {
  it('appends the decision with the version it was based on, and returns the folded state', async () => {
    const store = storeWithKey(1);
    const { streams, position } = await handleCommand(store, () => [rename(1, 'second')], options);
    expect(store.appends).toHaveLength(1);
    expect(store.appends[0].requests).toEqual([
      { streamId: 'key-1', expectedVersion: 1, accountId: 1, events: [{ type: 'KeyRenamed', data: { keyId: 1, name: 'second' }, metadata, occurredAt: NOW }] },
    ]);
    expect(streams[0].state).toMatchObject({ name: 'second', updatedAt: NOW });
    expect(streams[0].version).toBe(2);
    expect(streams[0].events.map((e) => e.type)).toEqual(['KeyRenamed']);
    expect(position).toBe(2);
  });

  it('on a version conflict decides again on fresh state, then succeeds', async () => {
    const store = storeWithKey(1);
    // Another writer deactivates the key just before our first append.
    store.beforeAppend = () => {
      store.beforeAppend = null;
      store.write({ streamId: 'key-1', expectedVersion: 1, accountId: 1, events: [{ type: 'KeyDeactivated', data: { keyId: 1 }, metadata }] });
    };
    const seen: boolean[] = [];
    const { streams } = await handleCommand(store, () => [keyStream(1, (s) => (seen.push(s.exists && s.active), [{ type: 'RenameKey', keyId: 1, name: 'second', now: NOW }]))], options);
    expect(seen).toEqual([true, false]);
    expect(store.appends.map((a) => a.requests[0].expectedVersion)).toEqual([1, 2]);
    expect(streams[0].state).toMatchObject({ name: 'second', active: false });
    expect((await store.readStream('key-1')).map((e) => e.type)).toEqual(['KeyCreated', 'KeyDeactivated', 'KeyRenamed']);
  });

  it('gives up as ConcurrentUpdateError (409 concurrent_update) after maxAttempts conflicts', async () => {
    const store = storeWithKey(1);
    let n = 0;
    store.beforeAppend = () => store.write({ streamId: 'key-1', expectedVersion: 0, accountId: 1, events: [{ type: 'KeyRenamed', data: { keyId: 1, name: `other ${++n}` }, metadata }] });
    const handled = handleCommand(store, () => [rename(1, 'second')], options);
    await expect(handled).rejects.toBeInstanceOf(ConcurrentUpdateError);
    await expect(handled).rejects.toMatchObject({ streamId: 'key-1' });
    expect(store.appends).toHaveLength(3);
  });

  it('passes a domain refusal through unchanged and appends nothing', async () => {
    const store = storeWithKey(1);
    const refusal = new DomainError('key_not_found', 'No such key in this account.');
    const refused = handleCommand(store, () => [keyStream(1, () => { throw refusal; })], options);
    await expect(refused).rejects.toBe(refusal);
    await expect(handleCommand(store, () => [rename(1, '')], options)).rejects.toMatchObject({ code: 'invalid_name' });
    expect(store.appends).toEqual([]);
  });

  it('appends nothing when the decision is empty, and reports no position', async () => {
    const store = storeWithKey(1);
    const { streams, position } = await handleCommand(store, () => [rename(1, 'first')], options);
    expect(store.appends).toEqual([]);
    expect(position).toBeNull();
    expect(streams[0]).toMatchObject({ version: 1, events: [], state: { name: 'first' } });
    expect(streams[0].state).toBe(streams[0].before);
  });

  it('appends several streams in one atomic request, skips reading a new one, and picks the check from the outcomes', async () => {
    const store = storeWithKey(1);
    const read = jest.spyOn(store, 'readStream');
    const check = jest.fn();
    const { streams, position } = await handleCommand(
      store,
      (now) => [keyStream(2, () => [{ type: 'CreateKey', ...created(2).data, keyId: 2, now }] as KeyCommand[], []), keyStream(1, () => [{ type: 'DeactivateKey', keyId: 1, now }])],
      { ...options, afterAppend: (outcomes) => (outcomes[1].state.exists && !outcomes[1].state.active ? check : undefined) },
    );
    expect(read.mock.calls).toEqual([['key-1']]);
    expect(store.appends).toHaveLength(1);
    expect(store.appends[0].requests.map((r) => [r.streamId, r.expectedVersion])).toEqual([['key-2', 0], ['key-1', 1]]);
    expect(store.appends[0].options?.afterAppend).toBe(check);
    expect(streams[0].state).toMatchObject({ exists: true, keyId: 2, createdAt: NOW });
    expect(streams[1].state).toMatchObject({ active: false });
    expect(position).toBe(3);
  });
});
