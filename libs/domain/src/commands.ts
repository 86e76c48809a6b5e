import type { KeyType, RevocationReason } from './events';

// Time (`now`, ISO-8601) and ids arrive on commands: the decider has no clock and no randomness.

export interface CreateAccount {
  type: 'CreateAccount';
  accountId: number;
  name: string;
  now: string;
}
export interface CreateKey {
  type: 'CreateKey';
  keyId: number;
  accountId: number;
  keyType: KeyType;
  name: string;
  prefix: string;
  hash: string;
  expiresAt: string | null;
  now: string;
}
export interface RenameKey {
  type: 'RenameKey';
  keyId: number;
  name: string;
  now: string;
}
export interface DeactivateKey {
  type: 'DeactivateKey';
  keyId: number;
  now: string;
}
export interface ReactivateKey {
  type: 'ReactivateKey';
  keyId: number;
  now: string;
}
export interface SetKeyExpiry {
  type: 'SetKeyExpiry';
  keyId: number;
  expiresAt: string | null;
  now: string;
}
export interface ExpireKey {
  type: 'ExpireKey';
  keyId: number;
  now: string;
}
/**
 * Rotation: the old key stops working at `expiresAt` (now + overlap), never later than its own expiry.
 * Unlike SetKeyExpiry the instant may be `now` (overlap 0), in which case the key expires at once.
 */
export interface RetireKey {
  type: 'RetireKey';
  keyId: number;
  expiresAt: string;
  now: string;
}
export interface DeleteKey {
  type: 'DeleteKey';
  keyId: number;
  now: string;
}

/** Revoking is always possible on a key that is not deleted: a leak must never be refused. */
export interface RevokeKey {
  type: 'RevokeKey';
  keyId: number;
  reason: RevocationReason;
  foundAt: string | null;
  note: string | null;
  now: string;
}

export type KeyCommand =
  | CreateKey
  | RenameKey
  | DeactivateKey
  | ReactivateKey
  | SetKeyExpiry
  | ExpireKey
  | RetireKey
  | DeleteKey
  | RevokeKey;

export type AccountCommand = CreateAccount;
