import { DomainError } from './domain.errors';

export const NAME_MAX_LENGTH = 100;

// Cc: C0, DEL and C1 controls. Cs (with the u flag): only unpaired surrogates. Both are refused by jsonb or break
// logs and terminals. Bidi embeddings, overrides and isolates (U+202A–202E, U+2066–2069) reorder how the rest of a
// dashboard line reads ("invoice\u202Efdp.exe"). Line and paragraph separators are line breaks. LRM/RLM/ALM
// (U+200E, U+200F, U+061C) stay allowed: they reorder nothing, and right-to-left names need them.
const REFUSED = /[\p{Cc}\p{Cs}\u202A-\u202E\u2066-\u2069\u2028\u2029]/u;
// A visible character: a letter, number, punctuation or symbol that is not a known blank (Hangul fillers, braille blank).
const VISIBLE = /(?![\u115F\u1160\u3164\uFFA0\u2800])[\p{L}\p{N}\p{P}\p{S}]/u;

/** Why `name` is refused as a key or account name, or null when it is fine (the rule of validName, for the edge). */
export function nameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return 'must be text';
  // Surrounding whitespace (tabs and line feeds too) is trimmed before the characters are judged.
  const normal = name.normalize('NFC').trim();
  if (REFUSED.test(normal)) return 'must not contain control characters, unpaired surrogates, line separators or bidirectional overrides';
  let length = 0;
  for (const _ of normal) length++;
  if (length < 1 || length > NAME_MAX_LENGTH) {
    return `must be between 1 and ${NAME_MAX_LENGTH} characters long once surrounding spaces are removed`;
  }
  if (!VISIBLE.test(normal)) return 'must contain a visible character';
  return null;
}

/**
 * The name NFC-normalized and trimmed, or a refusal. Length counts code points after NFC, so an emoji is one
 * character and a decomposed "é" as well.
 */
export function validName(name: unknown, what: 'key' | 'account'): string {
  const problem = nameProblem(name);
  if (problem !== null) throw new DomainError('invalid_name', `The ${what} name ${problem}.`);
  return (name as string).normalize('NFC').trim();
}
