// Text a customer chose (key names) or a client sent (user agents, actor names) must not drive the operator's
// terminal: an ESC starts an escape sequence (retitle the window, clear the screen, rewrite earlier lines),
// BEL and the C1 controls (8-bit CSI is U+009B) act too, and bidi overrides make a line read differently
// from what it contains. Each such character is shown as a visible `\uXXXX` instead.

// C0 controls, DEL, C1 controls, bidi marks/embeddings/overrides/isolates, and the Unicode line separators.
// eslint-disable-next-line no-control-regex -- control characters are exactly what is looked for
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// The same without LF: for whole outputs whose line breaks are the program's own.
// eslint-disable-next-line no-control-regex -- control characters are exactly what is looked for
const UNSAFE_KEEP_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// What JSON.stringify leaves raw among the above (it escapes only U+0000-U+001F).
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const escape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** One value (a name, a cell) made safe to print: every control, including line breaks, is escaped. */
export function terminalText(value: string): string {
  return value.replace(UNSAFE, escape);
}

/** A whole human-readable output made safe to print, keeping its line breaks. */
export function terminalLines(text: string): string {
  return text.replace(UNSAFE_KEEP_LF, escape);
}

/**
 * JSON for stdout: JSON.stringify escapes C0 controls but leaves C1 controls and bidi characters raw. They
 * can occur only inside strings, where `\uXXXX` is the same character to any JSON parser.
 */
export function terminalJson(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE_IN_JSON, escape);
}
