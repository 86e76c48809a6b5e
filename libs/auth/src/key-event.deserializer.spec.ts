import 'reflect-metadata';
import { NatsRequestJSONDeserializer } from '@nestjs/microservices/deserializers';
import { KeyEventDeserializer } from './public-api';

// On the events subjects the whole envelope; anywhere else exactly what Nest's default deserializer gives.

describe('KeyEventDeserializer', () => {
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const envelope = { eventId: 'e1', type: 'KeyDeleted', position: 7, streamId: 'key-2', streamVersion: 3, occurredAt: 'now', data: { keyId: 2 }, metadata: {} };

  it('hands an event handler the whole envelope', () => {
    const channel = 'keys.v1.events.*.KeyDeleted';
    expect(new KeyEventDeserializer().deserialize(json(envelope), { channel })).toEqual({ pattern: channel, data: envelope });
    expect(new KeyEventDeserializer('p.x').deserialize(json(envelope), { channel: 'p.x.events.>' })).toEqual({ pattern: 'p.x.events.>', data: envelope });
  });

  it.each<[string, unknown]>([
    ['a Nest packet', { pattern: 'orders.get', data: { id: 1 }, id: 'x' }],
    ['other JSON', { hello: 'world' }],
    ['a JSON scalar', 42],
    ['null', null],
    ['the envelope on another subject', envelope],
  ])('reads %s elsewhere as Nest does', (_name, value) => {
    const options = { channel: 'orders.get' };
    expect(new KeyEventDeserializer().deserialize(json(value), options)).toEqual(new NatsRequestJSONDeserializer().deserialize(json(value), options));
  });
});
