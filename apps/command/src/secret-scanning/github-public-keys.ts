import { type KeyObject, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';

// GitHub signs each secret-scanning alert with ECDSA P-256 over SHA-256 of the raw body; the signature (base64,
// DER) and the key's identifier come in headers, the keys themselves from GitHub's
// `/meta/public_keys/secret_scanning` document, which operators store as a file.

interface PublicKeysDocument {
  public_keys: Array<{ key_identifier: string; key: string; is_current?: boolean }>;
}

/** Reads and parses the keys document; throws (at start) on anything but a list of valid P-256 public keys. */
export function readGithubPublicKeys(file: string): Map<string, KeyObject> {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as PublicKeysDocument;
  if (!doc || !Array.isArray(doc.public_keys)) throw new Error(`${file}: expected {"public_keys":[…]}`);
  const keys = new Map<string, KeyObject>();
  for (const entry of doc.public_keys) {
    if (typeof entry?.key_identifier !== 'string' || typeof entry.key !== 'string') throw new Error(`${file}: each public key needs key_identifier and key`);
    const key = createPublicKey(entry.key);
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error(`${file}: ${entry.key_identifier} is not a P-256 key`);
    keys.set(entry.key_identifier, key);
  }
  return keys;
}

/** The outcome of checking one request's signature. */
export type SignatureCheck = 'valid' | 'missing' | 'unknown_key' | 'invalid';

/**
 * GitHub rotates its keys: an identifier not in the file makes it be read again, at most every
 * `reloadIntervalMs`, so a new key works once the operator has updated the file, without a restart.
 */
export class GithubSignatureVerifier {
  private keys: Map<string, KeyObject>;
  private loadedAt = Date.now();

  constructor(
    private readonly file: string,
    private readonly reloadIntervalMs = 10_000,
  ) {
    this.keys = readGithubPublicKeys(file);
  }

  check(body: Buffer | undefined, identifier: string | undefined, signature: string | undefined): SignatureCheck {
    if (!body || !identifier || !signature) return 'missing';
    const key = this.keyFor(identifier);
    if (!key) return 'unknown_key';
    try {
      return verify('sha256', body, { key, dsaEncoding: 'der' }, Buffer.from(signature, 'base64')) ? 'valid' : 'invalid';
    } catch {
      return 'invalid';
    }
  }

  private keyFor(identifier: string): KeyObject | undefined {
    const known = this.keys.get(identifier);
    if (known || Date.now() - this.loadedAt < this.reloadIntervalMs) return known;
    this.loadedAt = Date.now();
    try {
      this.keys = readGithubPublicKeys(this.file);
    } catch {
      // A broken file mid-rotation keeps the keys already loaded.
    }
    return this.keys.get(identifier);
  }
}
