import type { EventEnvelope } from '@keys/domain';
import { canonicalJson, computeEventHash, eventHashTemplate, hashFromTemplate } from './hash-chain';

const envelope = {
  eventId: '6f1c1d8e-3c1b-4f57-9a4e-0d2f7d1e5b10',
  type: 'KeyRenamed',
  position: 3,
  streamId: 'key-1',
  streamVersion: 2,
  occurredAt: '2026-11-26T10:00:00.000Z',
  data: { keyId: 1, name: 'prod' },
  metadata: { actor: { type: 'system', name: 'sweep' }, ipAddress: null, userAgent: null, correlationId: 'c' },
} as EventEnvelope;

describe('hash chain', () => {
  it('canonical JSON sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: null }], c: undefined } })).toBe(
      '{"a":{"d":[2,{"x":null,"y":1}]},"b":1}',
    );
  });

  it('does not depend on key order, as jsonb does not keep it', () => {
    const reordered = { ...envelope, data: { name: 'prod', keyId: 1 } } as EventEnvelope;
    expect(computeEventHash('0'.repeat(64), reordered)).toBe(computeEventHash('0'.repeat(64), envelope));
  });

  it('changes with the content and with the previous hash', () => {
    const base = computeEventHash('0'.repeat(64), envelope);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(computeEventHash('1'.repeat(64), envelope)).not.toBe(base);
    const renamed = { ...envelope, data: { keyId: 1, name: 'prod2' } } as EventEnvelope;
    expect(computeEventHash('0'.repeat(64), renamed)).not.toBe(base);
  });
});

describe('the account id', () => {
  it('is covered by the hash, so re-routing an event to another account breaks the chain', () => {
    const envelope = {
      eventId: '00000000-0000-4000-8000-000000000001',
      type: 'KeyDeleted',
      position: 1,
      streamId: 'key-1',
      streamVersion: 2,
      occurredAt: '2030-01-01T00:00:00.000Z',
      data: { keyId: 1 },
      metadata: { actor: { type: 'system', name: 't' }, ipAddress: null, userAgent: null, correlationId: 'c' },
    } as const;
    const genesis = '0'.repeat(64);
    expect(computeEventHash(genesis, { ...envelope, accountId: 1 } as never)).not.toBe(computeEventHash(genesis, { ...envelope, accountId: 2 } as never));
  });
});

describe('the hash template the appender prepares before it knows the position', () => {
  it('gives computeEventHash exactly, with or without an account, whatever the data', () => {
    const prev = 'a'.repeat(64);
    const variants = [
      { ...envelope, accountId: 7 },
      { ...envelope, accountId: null },
      envelope,
      { ...envelope, position: 1_234_567_890_123, data: { z: [1, { b: 'ü"\\', a: null }], position: 'not the position', '': -0 } },
    ] as Array<EventEnvelope & { accountId?: number | null }>;
    for (const variant of variants) {
      const { position, ...rest } = variant;
      expect(hashFromTemplate(prev, eventHashTemplate(rest), position)).toBe(computeEventHash(prev, variant));
    }
  });
});
