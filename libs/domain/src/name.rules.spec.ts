import { DomainError } from './domain.errors';
import { nameProblem, validName } from './name.rules';

// Names end up in jsonb, in logs and on dashboards: what Postgres refuses, what reorders or hides text is refused.

describe('key and account names', () => {
  it.each([
    ['NUL', 'a\u0000b'],
    ['a C0 control', 'bell\u0007'],
    ['a line feed inside', 'two\nlines'],
    ['a tab inside', 'a\tb'],
    ['DEL', 'a\u007fb'],
    ['a C1 control', 'next\u0085line'],
    ['a lone high surrogate', 'a\ud800b'],
    ['a lone low surrogate', '\udc00x'],
    ['a right-to-left override', 'invoice\u202Efdp.exe'],
    ['a left-to-right embedding', 'x\u202Ay'],
    ['a pop directional formatting', 'x\u202Cy'],
    ['a first-strong isolate', 'x\u2068y'],
    ['a pop directional isolate', 'x\u2069y'],
    ['a line separator', 'x\u2028y'],
    ['only a zero-width space', '\u200B'],
    ['only format characters', '\u200B\u200D\u2060\uFEFF'],
    ['only whitespace of other scripts', '\u3000\u00A0\u2003'],
    ['only a Hangul filler', '\u3164'],
    ['only a combining mark', '\u0301'],
  ])('refuses %s', (_label, name) => {
    expect(() => validName(name, 'key')).toThrow(DomainError);
    expect(nameProblem(name)).toEqual(expect.any(String));
  });

  it.each([
    ['plain text', 'Production', 'Production'],
    ['surrounding spaces', '  Production \n', 'Production'],
    ['a decomposed accent, composed (NFC)', 'Cafe\u0301', 'Caf\u00e9'],
    ['an emoji sequence with a zero-width joiner', '👩‍💻 dev', '👩‍💻 dev'],
    ['right-to-left text with a mark', 'מפתח\u200F 1', 'מפתח\u200F 1'],
    ['a zero-width space between visible characters', 'a\u200Bb', 'a\u200Bb'],
  ])('accepts %s', (_label, name, stored) => {
    expect(validName(name, 'key')).toBe(stored);
    expect(nameProblem(name)).toBeNull();
  });

  it('counts length after NFC, in code points', () => {
    expect(validName('e\u0301'.repeat(100), 'key')).toBe('\u00e9'.repeat(100));
    expect(validName('😀'.repeat(100), 'key')).toBe('😀'.repeat(100));
    expect(() => validName('x'.repeat(101), 'key')).toThrow(DomainError);
  });
});
