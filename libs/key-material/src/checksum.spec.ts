import { checksumOf, crc32, crc32Ascii, decodeChecksumAt } from './checksum';

describe('crc32', () => {
  it('matches the standard IEEE check value and known vectors', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.from(''))).toBe(0);
    expect(crc32(Buffer.from('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });

  it('gives the same value on char codes as on bytes, for a sub-range too', () => {
    expect(crc32Ascii('xx123456789yy', 2, 11)).toBe(0xcbf43926);
  });
});

describe('checksumOf', () => {
  it('is 6 base62 characters, left-padded, and decodes back to the CRC', () => {
    for (const text of ['', 'a', 'ms-abc', '123456789']) {
      const sum = checksumOf(text);
      expect(sum).toMatch(/^[0-9A-Za-z]{6}$/);
      expect(decodeChecksumAt(sum, 0)).toBe(crc32Ascii(text));
    }
    // CRC32('') is 0: the padding must keep the width.
    expect(checksumOf('')).toBe('000000');
  });

  it('decodes to -1 when a checksum character is outside the alphabet', () => {
    expect(decodeChecksumAt('00-000', 0)).toBe(-1);
  });
});
