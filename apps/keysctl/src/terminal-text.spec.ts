import { terminalJson, terminalLines, terminalText } from './terminal-text';

describe('terminal text', () => {
  const title = '\u001b]0;pwned\u0007';
  const clear = '\u001b[2J';

  it('escapes ESC, BEL, CSI sequences and every other C0/C1 control, visibly', () => {
    expect(terminalText(`a${title}b${clear}c`)).toBe('a\\u001b]0;pwned\\u0007b\\u001b[2Jc');
    expect(terminalText('\u009b2J\u0000\u007f\r\t\n')).toBe('\\u009b2J\\u0000\\u007f\\u000d\\u0009\\u000a');
  });

  it('escapes bidi overrides, isolates and marks, and the Unicode line separators', () => {
    expect(terminalText('invoice\u202Efdp.exe')).toBe('invoice\\u202efdp.exe');
    expect(terminalText('\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u2028\u2029')).toBe(
      '\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c\\u2028\\u2029',
    );
  });

  it('leaves ordinary text, accents, CJK and emoji as they are', () => {
    for (const s of ['Production', 'Clé résumé', '鍵', 'ключ 🔑', 'a\\u001b (already text)']) expect(terminalText(s)).toBe(s);
  });

  it('keeps line breaks in whole outputs but nothing else', () => {
    expect(terminalLines(`row 1\nrow ${clear}2\r\n`)).toBe('row 1\nrow \\u001b[2J2\\u000d\n');
  });

  it('writes JSON that parses to the same value, with no raw control or bidi character in it', () => {
    const value = { name: `${title}${clear}\u009b\u202e` };
    const json = terminalJson(value);
    expect(JSON.parse(json)).toEqual(value);
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is looked for
    expect(json).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
  });
});
