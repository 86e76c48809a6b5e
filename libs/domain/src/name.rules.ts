import { DomainError } from './domain.errors';

export const NAME_MAX_LENGTH = 100;

/**
 * The trimmed name, or a refusal. Length counts code points, so an emoji is one character
 * (as class-validator's Length does at the edge).
 */
export function validName(name: unknown, what: 'key' | 'account'): string {
  if (typeof name !== 'string') throw new DomainError('invalid_name', `The ${what} name must be text.`);
  const trimmed = name.trim();
  let length = 0;
  for (const _ of trimmed) length++;
  if (length < 1 || length > NAME_MAX_LENGTH) {
    throw new DomainError(
      'invalid_name',
      `The ${what} name must be between 1 and ${NAME_MAX_LENGTH} characters long once surrounding spaces are removed.`,
    );
  }
  return trimmed;
}
