// The decider shape shared by every stream (as emmett's Decider): the command handler needs nothing else.

/** An event with the time the store recorded it, when known; an EventEnvelope is one. */
export type Recorded<E> = E & { occurredAt?: string };

export interface Decider<State, Command, Event> {
  /** The events a command produces on `state`, or a DomainError; [] means nothing to do. */
  decide(command: Command, state: State): Event[];
  /**
   * Applies one event; never refuses. Folding envelopes (a `Recorded` event) lets the state carry the
   * events' times, which the key and account deciders keep.
   */
  evolve(state: State, event: Event): State;
  initialState(): State;
}
