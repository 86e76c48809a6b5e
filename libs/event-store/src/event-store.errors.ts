/** Base class of every error this library throws on purpose. */
export class EventStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The stream is not at the version the caller decided on (docs/events.md). */
export class StreamVersionConflictError extends EventStoreError {
  constructor(
    readonly streamId: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`stream ${streamId} is at version ${actual}, expected ${expected}`);
  }
}

/** The append request itself is malformed (a programming error, not a conflict). */
export class InvalidAppendRequestError extends EventStoreError {}

export class EventAppenderClosedError extends EventStoreError {
  constructor() {
    super('the event appender is closed');
  }
}

/** An int8 value that does not fit a JS number exactly. */
export class UnsafeBigintError extends EventStoreError {
  constructor(readonly value: string) {
    super(`int8 value ${value} is outside the safe integer range`);
  }
}

export class DatabaseNameError extends EventStoreError {}

export class MigrationFailedError extends EventStoreError {
  constructor(
    readonly migrationName: string | undefined,
    override readonly cause: unknown,
  ) {
    super(
      `event store migration ${migrationName ?? '(setup)'} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}
