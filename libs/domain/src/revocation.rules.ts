// What a revocation may record besides its reason. Both texts end up in events, the read models and the
// security log, so neither may carry key material or anything that breaks a terminal or a log line.

const KEY_SHAPED = /m[sk]-[0-9A-Za-z]{20,}/;
// C0/C1 controls, DEL, bidi embeddings/overrides/isolates, line and paragraph separators (as name.rules).
const UNPRINTABLE = /[\p{Cc}\u202a-\u202e\u2066-\u2069\u2028\u2029]/u;
export const REVOCATION_NOTE_MAX_LENGTH = 500;
export const LEAK_URL_MAX_LENGTH = 2048;

/** Why an operator's note cannot be recorded, or null when it can (after NFC and trimming). */
export function revocationNoteProblem(note: string): string | null {
  const text = note.normalize('NFC').trim();
  if (text.length === 0) return 'the reason must not be empty';
  if ([...text].length > REVOCATION_NOTE_MAX_LENGTH) return `the reason must be at most ${REVOCATION_NOTE_MAX_LENGTH} characters`;
  if (UNPRINTABLE.test(text)) return 'the reason must not contain control, bidi or line-separator characters';
  if (KEY_SHAPED.test(text)) return 'the reason must not contain a key';
  return null;
}

/**
 * The place a scanner reported a leak, if it is worth recording: an http(s) URL of sane length with nothing
 * key-shaped in it. Anything else becomes null: a bad URL must never stop a revocation.
 */
export function leakLocation(url: unknown): string | null {
  if (typeof url !== 'string' || url.length > LEAK_URL_MAX_LENGTH || UNPRINTABLE.test(url) || KEY_SHAPED.test(url)) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? url : null;
  } catch {
    return null;
  }
}
