import { DEFAULT_SUBJECT_PREFIX } from './events';

const decoder = new TextDecoder();

/**
 * A deserializer for a Nest NATS microservice (`options.deserializer`) under which `@EventPattern` handlers on the
 * events subjects get the whole EventEnvelope. Nest's default takes any JSON with a `data` field for its own packet
 * and would hand a handler only the event's `data`. Messages on other subjects are read as the default reads them.
 */
export class KeyEventDeserializer {
  private readonly eventsPrefix: string;

  constructor(subjectPrefix: string = DEFAULT_SUBJECT_PREFIX) {
    this.eventsPrefix = `${subjectPrefix}.events.`;
  }

  deserialize(value: Uint8Array, options?: Record<string, any>): { pattern: unknown; data: unknown } {
    const message = JSON.parse(decoder.decode(value)) as { pattern?: unknown; data?: unknown } | null;
    const channel: unknown = options?.channel;
    if (typeof channel === 'string' && channel.startsWith(this.eventsPrefix)) return { pattern: channel, data: message };
    // As NatsRequestJSONDeserializer: Nest's own packets as they are, any other JSON as the data of the channel.
    if (message && (message.pattern !== undefined || message.data !== undefined)) return message as { pattern: unknown; data: unknown };
    return { pattern: channel, data: message };
  }
}
