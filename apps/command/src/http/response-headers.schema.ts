import { ApiHeader } from '@nestjs/swagger';
import { PROPAGATION_HEADER } from './verification-propagation.interceptor';
import { MIN_POSITION_HEADER, STALE_HEADER } from './read-your-writes.interceptor';
import { POSITION_HEADER } from './key.view';

// Headers of docs/api.md (Headers) as OpenAPI response-header objects; documentation only.

export const REQUEST_ID_RESPONSE_HEADER = {
  'X-Request-Id': { description: "the request's X-Request-Id, or a generated UUID", schema: { type: 'string' } },
};

/** On a write's success: where it landed in the store and how it reached the verifiers (absent on a write that changed nothing). */
export const WRITE_RESPONSE_HEADERS = {
  ...REQUEST_ID_RESPONSE_HEADER,
  [POSITION_HEADER]: { description: 'the event-store position of the last event the write appended; absent when it appended nothing', schema: { type: 'integer', minimum: 1 } },
  [PROPAGATION_HEADER]: {
    description: 'with X-Keys-Position: how the write reached the verifiers (see docs/verification.md)',
    schema: { type: 'string', enum: ['confirmed', 'fenced', 'unconfirmed'] },
  },
};

/** On a read's success. */
export const READ_RESPONSE_HEADERS = {
  ...REQUEST_ID_RESPONSE_HEADER,
  [STALE_HEADER]: { description: 'the read stopped waiting for the projector; it may miss recent writes', schema: { type: 'string', enum: ['true'] } },
};

/** Request header of the read routes. */
export const ApiMinPositionHeader = () =>
  ApiHeader({
    name: MIN_POSITION_HEADER,
    required: false,
    description: "a position the answer must reflect, such as a write's X-Keys-Position (a non-negative integer of at most 15 digits)",
    schema: { type: 'string', pattern: '^\\s*\\d{1,15}\\s*$' },
  });
