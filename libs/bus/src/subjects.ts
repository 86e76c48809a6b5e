import type { DomainEventType } from '@keys/domain';

// Subject layout (docs/events.md, docs/verification.md), all under one configurable prefix (default `keys.v1`) so tests and
// environments can share a NATS server without seeing each other's traffic.

export const eventSubject = (prefix: string, accountId: number | string, type: DomainEventType | '*' | '>'): string =>
  `${prefix}.events.${accountId}.${type}`;

export const allEventsSubject = (prefix: string): string => `${prefix}.events.>`;

export const verifySubject = (prefix: string): string => `${prefix}.verify`;

export const VERIFIER_QUEUE_GROUP = 'key-verifier';

/** Usage telemetry (last VALID verification per key): verifiers publish, the projector subscribes. Internal. */
export const usageSubject = (prefix: string): string => `${prefix}.usage`;
