import { leakLocation, revocationNoteProblem } from './revocation.rules';

describe('revocation texts', () => {
  it('accepts a plain note and refuses empty, long, unprintable or key-bearing ones', () => {
    expect(revocationNoteProblem('  customer ticket 42 ')).toBeNull();
    expect(revocationNoteProblem('   ')).toMatch(/empty/);
    expect(revocationNoteProblem('x'.repeat(501))).toMatch(/500/);
    expect(revocationNoteProblem('line\nbreak')).toMatch(/control/);
    expect(revocationNoteProblem('bidi \u202e trick')).toMatch(/control/);
    expect(revocationNoteProblem(`pasted ms-${'A'.repeat(49)}`)).toMatch(/key/);
  });

  it('keeps an http(s) URL and drops anything else to null', () => {
    expect(leakLocation('https://github.com/octo/repo/blob/abc/.env#L3')).toBe('https://github.com/octo/repo/blob/abc/.env#L3');
    expect(leakLocation('javascript:alert(1)')).toBeNull();
    expect(leakLocation('not a url')).toBeNull();
    expect(leakLocation(42)).toBeNull();
    expect(leakLocation(`https://x.test/${'a'.repeat(2100)}`)).toBeNull();
    expect(leakLocation(`https://x.test/?k=mk-${'B'.repeat(49)}`)).toBeNull();
  });
});
