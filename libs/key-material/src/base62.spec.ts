import { BASE62_ALPHABET, base62Digit, encodeBase62Fixed, encodeBytesBase62 } from './base62';

describe('base62', () => {
  it('uses the 0-9A-Za-z alphabet in that order', () => {
    expect(BASE62_ALPHABET).toHaveLength(62);
    expect(encodeBase62Fixed(61n, 1)).toBe('z');
    expect(encodeBase62Fixed(62n, 2)).toBe('10');
    expect(base62Digit('A'.charCodeAt(0))).toBe(10);
    expect(base62Digit('-'.charCodeAt(0))).toBe(-1);
    expect(base62Digit('é'.charCodeAt(0))).toBe(-1);
  });

  it('left-pads to a fixed width and fits 32 bytes of all ones in 43 characters', () => {
    expect(encodeBase62Fixed(0n, 43)).toBe('0'.repeat(43));
    const max = encodeBytesBase62(new Uint8Array(32).fill(0xff), 43);
    expect(max).toHaveLength(43);
    expect(encodeBytesBase62(new Uint8Array(32), 43)).toBe('0'.repeat(43));
  });

  it('refuses values that do not fit the width', () => {
    expect(() => encodeBase62Fixed(62n, 1)).toThrow(RangeError);
  });
});
