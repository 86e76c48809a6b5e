import type { KeyType, Verdict } from './verdict';

/** Anything that can answer "is this key valid for this scope" (the NATS verifier client, or a local lookup). */
export interface KeyVerifier {
  verify(key: string, scope: KeyType): Promise<Verdict>;
}

export const KEY_VERIFIER = Symbol('KEY_VERIFIER');
