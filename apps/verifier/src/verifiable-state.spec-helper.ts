import type { KeyState, VerifiableKey } from '@keys/domain';

/** The domain's folded key state as a verifier would know it: the reference the index must agree with. */
export function verifiableOf(state: KeyState): VerifiableKey | undefined {
  if (!state.exists) return undefined;
  return {
    keyId: state.keyId,
    accountId: state.accountId,
    keyType: state.keyType,
    name: state.name,
    prefix: state.prefix,
    active: state.active,
    expiresAt: state.expiresAt,
    expiresAtMs: state.expiresAt === null ? null : Date.parse(state.expiresAt),
    expired: state.expired,
    deleted: state.deleted,
    revoked: state.revocation !== null,
  };
}
