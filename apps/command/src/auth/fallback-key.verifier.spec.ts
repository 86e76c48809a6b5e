import { type KeyVerifier, VerifierUnavailableError } from '@keys/auth';
import { type Verdict, refusal } from '@keys/domain';
import { FallbackKeyVerifier } from './fallback-key.verifier';

const valid: Verdict = { valid: true, code: 'VALID', status: 200, key: { id: 1, accountId: 1, type: 'billing', name: 'b', prefix: 'mk-abcde', expiresAt: null } };

function fake(answer: Verdict | Error): KeyVerifier & { calls: number } {
  const verifier = {
    calls: 0,
    async verify(): Promise<Verdict> {
      verifier.calls++;
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return verifier;
}

describe('FallbackKeyVerifier', () => {
  it.each<[string, Verdict]>([
    ['VALID', valid],
    ['DELETED', refusal('DELETED')],
    ['INACTIVE', refusal('INACTIVE')],
    ['EXPIRED', refusal('EXPIRED')],
    ['MALFORMED', refusal('MALFORMED')],
  ])('keeps the verifier\'s %s without asking the local index', async (_code, verdict) => {
    const local = fake(valid);
    expect(await new FallbackKeyVerifier(fake(verdict), local).verify('mk-x', 'billing')).toEqual(verdict);
    expect(local.calls).toBe(0);
  });

  it('asks the local index when the verifier does not know the key yet', async () => {
    const local = fake(valid);
    expect(await new FallbackKeyVerifier(fake(refusal('NOT_FOUND')), local).verify('mk-x', 'billing')).toEqual(valid);
    expect(local.calls).toBe(1);
  });

  it('asks the local index when the verifier is unreachable', async () => {
    const local = fake(refusal('INACTIVE'));
    const verdict = await new FallbackKeyVerifier(fake(new VerifierUnavailableError('no_responders', 'none')), local).verify('mk-x', 'billing');
    expect(verdict.code).toBe('INACTIVE');
  });

  it('does not hide a bug behind the fallback', async () => {
    await expect(new FallbackKeyVerifier(fake(new TypeError('bug')), fake(valid)).verify('mk-x', 'billing')).rejects.toThrow('bug');
  });
});
