// Base62 with a fixed width, so every key has the same length and a checksum never loses a leading digit.

export const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

const BASE = 62n;

/** Digit value of each char code 0..127, or -1. A table keeps parsing allocation-free. */
const DIGIT_OF: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < BASE62_ALPHABET.length; i++) table[BASE62_ALPHABET.charCodeAt(i)] = i;
  return table;
})();

/** Value of one base62 character code, or -1 when it is not in the alphabet. */
export function base62Digit(charCode: number): number {
  return charCode < 128 ? DIGIT_OF[charCode] : -1;
}

/** Encodes a non-negative integer as exactly `width` base62 digits, left-padded with '0'. */
export function encodeBase62Fixed(value: bigint, width: number): string {
  if (value < 0n) throw new RangeError('base62 encodes non-negative integers only');
  let rest = value;
  let out = '';
  while (rest > 0n) {
    out = BASE62_ALPHABET[Number(rest % BASE)] + out;
    rest /= BASE;
  }
  if (out.length > width) throw new RangeError(`value does not fit in ${width} base62 digits`);
  return out.padStart(width, '0');
}

/** Encodes bytes (big-endian) as exactly `width` base62 digits. */
export function encodeBytesBase62(bytes: Uint8Array, width: number): string {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return encodeBase62Fixed(value, width);
}
