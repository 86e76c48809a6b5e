import type { Decider, DomainEvent, EventEnvelope, EventMetadata, Recorded } from '@keys/domain';
import { type AppendOptions, type AppendRequest, StreamVersionConflictError } from '@keys/event-store';
import { ConcurrentUpdateError } from './key-service.errors';

/** What the command handler needs of the store: read a stream, append to several streams atomically. */
export interface CommandStore {
  readStream(streamId: string): Promise<EventEnvelope[]>;
  appendAll(requests: AppendRequest[], options?: AppendOptions): Promise<EventEnvelope[][]>;
}

/** One stream's part of a command: how to fold it, and which commands to decide on its current state. */
export interface StreamCommand<State, Command, Event extends DomainEvent> {
  streamId: string;
  decider: Decider<State, Command, Event>;
  /** The envelope as one of this stream's events; null for anything else (a stream holds one decider's events). */
  eventOf(envelope: EventEnvelope): Recorded<Event> | null;
  /** Account the stream's events belong to, read from the state after the decision. */
  accountOf(state: State): number | null;
  /** The stream's events when already read for this attempt; [] for a freshly drawn id (nothing to read). */
  stored?: readonly EventEnvelope[];
  /** Decided in order, each on the state the previous ones left; may refuse (e.g. a key outside the caller's scope). */
  commands(state: State): Command[];
}

export type AnyStreamCommand = StreamCommand<any, any, DomainEvent>;

export interface StreamOutcome<State> {
  /** State the decision was based on, and the state after it. */
  before: State;
  state: State;
  /** Stream version after the decision. */
  version: number;
  /** Appended envelopes; [] when the stream decided nothing. */
  events: EventEnvelope[];
}

type StateOf<C> = C extends StreamCommand<infer State, any, any> ? State : never;
export type StreamOutcomes<T extends readonly AnyStreamCommand[]> = { -readonly [K in keyof T]: StreamOutcome<StateOf<T[K]>> };

export interface HandleCommandOptions<T extends readonly AnyStreamCommand[]> {
  metadata: EventMetadata;
  /** The request's time: `now` of the commands and occurredAt of the events; read again on every attempt. */
  clock: () => string;
  /** Attempts on a stream version conflict before giving up with ConcurrentUpdateError. */
  maxAttempts: number;
  /** A check in the append's transaction, chosen from the decided (not yet appended) outcomes. */
  afterAppend?: (outcomes: StreamOutcomes<T>, now: string) => AppendOptions['afterAppend'] | undefined;
}

export interface Handled<T extends readonly AnyStreamCommand[]> {
  streams: StreamOutcomes<T>;
  /** Position of the last appended event, or null when nothing was decided. */
  position: number | null;
}

/**
 * The write path (as emmett's DeciderCommandHandler, over several streams): read each stream and fold it,
 * decide, append every stream's events with the version they were decided on in one atomic append, and on a
 * version conflict start again with fresh state, at most `maxAttempts` times. `plan` runs on every attempt,
 * so anything drawn for one (a new key id) is drawn again.
 */
export async function handleCommand<const T extends readonly AnyStreamCommand[]>(
  store: CommandStore,
  plan: (now: string) => T | Promise<T>,
  options: HandleCommandOptions<T>,
): Promise<Handled<T>> {
  for (let attempt = 1; ; attempt++) {
    const now = options.clock();
    const streams = await plan(now);
    const decided = await Promise.all(streams.map((stream) => decideStream(store, stream, now)));
    const outcomes = decided.map((d) => d.outcome) as StreamOutcomes<T>;
    const appending = decided.filter((d) => d.events.length > 0);
    if (appending.length === 0) return { streams: outcomes, position: null };
    try {
      const requests = appending.map((d) => request(d, options.metadata, now));
      const appended = await store.appendAll(requests, { afterAppend: options.afterAppend?.(outcomes, now) });
      appended.forEach((envelopes, i) => (appending[i].outcome.events = envelopes));
      return { streams: outcomes, position: Math.max(...appended.flat().map((e) => e.position)) };
    } catch (err) {
      if (!(err instanceof StreamVersionConflictError)) throw err;
      if (attempt >= options.maxAttempts) throw new ConcurrentUpdateError(err.streamId);
    }
  }
}

interface Decided {
  stream: AnyStreamCommand;
  /** Version the decision was based on. */
  expectedVersion: number;
  events: DomainEvent[];
  outcome: StreamOutcome<unknown>;
}

async function decideStream(store: CommandStore, stream: AnyStreamCommand, now: string): Promise<Decided> {
  const { decider } = stream;
  let before = decider.initialState();
  let expectedVersion = 0;
  for (const envelope of stream.stored ?? (await store.readStream(stream.streamId))) {
    const event = stream.eventOf(envelope);
    if (event) before = decider.evolve(before, event);
    expectedVersion = envelope.streamVersion;
  }
  const events: DomainEvent[] = [];
  let state = before;
  for (const command of stream.commands(before)) {
    for (const event of decider.decide(command, state)) {
      // Stamped as the store will record it, so the state equals the one folded from the stored envelopes.
      const recorded: Recorded<DomainEvent> = { ...event, occurredAt: now };
      state = decider.evolve(state, recorded);
      events.push(event);
    }
  }
  return { stream, expectedVersion, events, outcome: { before, state, version: expectedVersion + events.length, events: [] } };
}

function request(decided: Decided, metadata: EventMetadata, occurredAt: string): AppendRequest {
  return {
    streamId: decided.stream.streamId,
    expectedVersion: decided.expectedVersion,
    accountId: decided.stream.accountOf(decided.outcome.state),
    events: decided.events.map((event) => ({ ...event, metadata, occurredAt })),
  };
}
