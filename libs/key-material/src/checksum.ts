// CRC32 (IEEE 802.3, reflected polynomial 0xEDB88320), table-driven. Node 20 has no zlib.crc32.
// CRC32 detects every error burst of up to 32 bits, so any single-character change in the checked part of
// a key is always caught; 6 base62 digits (62^6 > 2^32) hold the whole value.

import { BASE62_ALPHABET, base62Digit } from './base62';

export const CHECKSUM_LENGTH = 6;

const CRC_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC32 of the characters `text[start..end)`, each taken as one byte. Callers pass ASCII only
 * (the alphabet and '-'); working on char codes avoids allocating a Buffer on the verification path.
 */
export function crc32Ascii(text: string, start = 0, end = text.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) {
    crc = CRC_TABLE[(crc ^ text.charCodeAt(i)) & 0xff] ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** CRC32 of bytes; used by tests to check the ASCII variant against known vectors. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The 6-character base62 checksum of `text` (fixed width, left-padded with '0'). */
export function checksumOf(text: string): string {
  let value = crc32Ascii(text);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62_ALPHABET[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/**
 * Decodes the checksum digits at `text[start..start+6)`; -1 when a character is outside the alphabet.
 * Plain number arithmetic is exact here: 62^6 < 2^53.
 */
export function decodeChecksumAt(text: string, start: number): number {
  let value = 0;
  for (let i = start; i < start + CHECKSUM_LENGTH; i++) {
    const digit = base62Digit(text.charCodeAt(i));
    if (digit < 0) return -1;
    value = value * 62 + digit;
  }
  return value;
}
