import { hash } from 'node:crypto';
import { type DomainEvent, type DomainEventType, type VerifiableKey, assertNever } from '@keys/domain';
import { KEY_DISPLAY_PREFIX_LENGTH } from '@keys/key-material';

/** What the index needs of an envelope: its global position and the event (metadata is not kept). */
export type IndexableEvent = DomainEvent & { position: number };

/**
 * One event as the catch-up reads it: Postgres extracts the few fields the index folds from the jsonb `data`
 * (parsing whole documents in JS was the largest cost of a cold start). A field the type does not carry is null.
 */
export interface IndexRow {
  position: number;
  type: DomainEventType;
  keyId: number | null;
  accountId: number | null;
  keyType: string | null;
  name: string | null;
  /** SHA-256 hex of the key (KeyCreated). */
  hash: string | null;
  expiresAt: string | null;
}

/**
 * `applied`: the event was the next one and changed the index. `duplicate`: at or below the applied
 * position (already seen through the other source). `gap`: events are missing before it; the caller
 * must fill them from the event store first.
 */
export type ApplyOutcome = 'applied' | 'duplicate' | 'gap';

const DIGEST_BYTES = 32;
const BILLING = 1;
const ACTIVE = 2;
const EXPIRED = 4;
const DELETED = 8;
/** The key has an expiresAt (kept in `expiries`). */
const EXPIRES = 16;
const REVOKED = 32;
const INITIAL_CAPACITY = 1024;
/** Room reserved per key for its name when sizing for a catch-up (names grow the buffer further if longer). */
const TYPICAL_NAME_BYTES = 16;
/** Encoded answers kept per index; a bound so that verifying every key once cannot grow memory without end. */
const MAX_CACHED_ANSWERS = 100_000;

/** SHA-256 of a presented key, the index's lookup key (one-shot `crypto.hash`: no Hash object per request). */
export function digestOfKey(key: string): Uint8Array {
  return hash('sha256', key, 'buffer');
}

/**
 * Every key's verification state, folded from the event stream by global position. Mirrors `evolveKey`
 * of the domain (the spec checks that both give the same verdicts) but keeps only what `judgeKey` needs.
 * Pure and synchronous: the follower decides where events come from.
 *
 * The index holds every key ever created (deleted ones included), so it is laid out for a million keys:
 * no object and no string per key. A key is a slot number; its fields live in parallel typed arrays (off the
 * JS heap, so the garbage collector never walks them), its name as UTF-8 in one growing buffer (a rename
 * appends; the old bytes stay, a few bytes per rename). The digests sit side by side in one buffer, found
 * through an open-addressing table keyed by the digest's first 32 bits (SHA-256 output is uniform, so that
 * is a hash already). Only keys with an expiry have an entry in a Map. The display prefix is not stored:
 * it is the presented key's first 8 characters (KeyCreated's prefix is by construction), known at every
 * lookup. About 85 bytes per key in all.
 */
export class VerifierIndex {
  private capacity = 0;
  private count = 0;
  private digests = Buffer.alloc(0);
  private keyIds = new Float64Array(0);
  private accountIds = new Float64Array(0);
  private flags = new Uint8Array(0);
  private nameOffsets = new Uint32Array(0);
  /** UTF-8 bytes; a name is at most 100 characters (domain rule), so 400 bytes. */
  private nameLengths = new Uint16Array(0);
  private nameBytes = Buffer.alloc(0);
  private nameBytesUsed = 0;
  /** expiresAt as given (the answer repeats it) and its epoch ms, for keys with the EXPIRES flag only. */
  private readonly expiries = new Map<number, { iso: string; ms: number | null }>();
  /** slot + 1 per bucket, 0 for empty; a power of two. */
  private buckets = new Int32Array(0);
  /**
   * slot + 1 by key id, 0 for none. Key ids come from a sequence, so this is dense; an id far beyond the
   * others (not made by this system's sequence) goes to `slotByOddId` rather than stretching the array.
   */
  private slotById = new Int32Array(0);
  private readonly slotByOddId = new Map<number, number>();
  private readonly answers = new Map<number, Uint8Array>();
  private appliedPosition = 0;

  constructor() {
    this.grow(INITIAL_CAPACITY);
  }

  /** Position of the last applied event (0 before any). */
  get position(): number {
    return this.appliedPosition;
  }

  get size(): number {
    return this.count;
  }

  /** The key presented as `key` (a parsed key: its first 8 characters are its prefix), or undefined. */
  lookup(key: string): VerifiableKey | undefined {
    const slot = this.slotOf(digestOfKey(key));
    return slot < 0 ? undefined : this.keyAt(slot, key.slice(0, KEY_DISPLAY_PREFIX_LENGTH));
  }

  /** The slot of the key with this SHA-256 digest, or -1. */
  slotOf(digest: Uint8Array): number {
    const mask = this.buckets.length - 1;
    const digests = this.digests;
    let bucket = (digest[0] | (digest[1] << 8) | (digest[2] << 16) | (digest[3] << 24)) & mask;
    for (;;) {
      const entry = this.buckets[bucket];
      if (entry === 0) return -1;
      const offset = (entry - 1) * DIGEST_BYTES;
      let i = 0;
      while (i < DIGEST_BYTES && digests[offset + i] === digest[i]) i++;
      if (i === DIGEST_BYTES) return entry - 1;
      bucket = (bucket + 1) & mask;
    }
  }

  /** What the verifier knows of the key in `slot`; `prefix` is the presented key's display prefix. */
  keyAt(slot: number, prefix: string): VerifiableKey {
    const flags = this.flags[slot];
    const expiry = flags & EXPIRES ? this.expiries.get(slot) : undefined;
    const nameOffset = this.nameOffsets[slot];
    return {
      keyId: this.keyIds[slot],
      accountId: this.accountIds[slot],
      keyType: flags & BILLING ? 'billing' : 'proxy',
      name: this.nameBytes.toString('utf8', nameOffset, nameOffset + this.nameLengths[slot]),
      prefix,
      active: (flags & ACTIVE) !== 0,
      expiresAt: expiry ? expiry.iso : null,
      expiresAtMs: expiry ? expiry.ms : null,
      expired: (flags & EXPIRED) !== 0,
      deleted: (flags & DELETED) !== 0,
      revoked: (flags & REVOKED) !== 0,
    };
  }

  /**
   * The encoded VALID answer last stored for this slot. Dropped whenever an event for the key is applied,
   * so it always reflects the key's current state; the caller still judges the key (expiry included) first.
   */
  cachedAnswer(slot: number): Uint8Array | undefined {
    return this.answers.get(slot);
  }

  cacheAnswer(slot: number, bytes: Uint8Array): void {
    if (this.answers.size >= MAX_CACHED_ANSWERS) this.answers.clear();
    this.answers.set(slot, bytes);
  }

  /** Makes room for `keys` more keys at once (a hint: the index grows by itself anyway). */
  reserve(keys: number): void {
    if (this.count + keys > this.capacity) this.grow(this.count + keys);
    this.reserveNameBytes(keys * TYPICAL_NAME_BYTES);
  }

  /** Applies the event only when it is the next position; idempotent for anything already applied. */
  apply(event: IndexableEvent): ApplyOutcome {
    if (event.position <= this.appliedPosition) return 'duplicate';
    if (event.position !== this.appliedPosition + 1) return 'gap';
    this.foldEvent(event);
    this.appliedPosition = event.position;
    return 'applied';
  }

  /** `apply` for a row of the catch-up read: the same rule, the same fold. */
  applyRow(row: IndexRow): ApplyOutcome {
    if (row.position <= this.appliedPosition) return 'duplicate';
    if (row.position !== this.appliedPosition + 1) return 'gap';
    this.fold(row.type, row.keyId, row.accountId, row.keyType, row.name, row.hash, row.expiresAt);
    this.appliedPosition = row.position;
    return 'applied';
  }

  private foldEvent(event: DomainEvent): void {
    switch (event.type) {
      case 'AccountCreated':
        return;
      case 'KeyCreated': {
        const d = event.data;
        return this.fold(event.type, d.keyId, d.accountId, d.keyType, d.name, d.hash, d.expiresAt);
      }
      case 'KeyRenamed':
        return this.fold(event.type, event.data.keyId, null, null, event.data.name, null, null);
      case 'KeyExpirySet':
        return this.fold(event.type, event.data.keyId, null, null, null, null, event.data.expiresAt);
      case 'KeyDeactivated':
      case 'KeyReactivated':
      case 'KeyExpired':
      case 'KeyDeleted':
      case 'KeyRevoked':
        return this.fold(event.type, event.data.keyId, null, null, null, null, null);
      default:
        assertNever(event);
    }
  }

  private fold(
    type: DomainEventType,
    keyId: number | null,
    accountId: number | null,
    keyType: string | null,
    name: string | null,
    hashHex: string | null,
    expiresAt: string | null,
  ): void {
    if (type === 'AccountCreated') return;
    if (type === 'KeyCreated') {
      this.create(keyId as number, accountId as number, keyType === 'billing', name as string, hashHex as string, expiresAt);
      return;
    }
    const slot = keyId === null ? -1 : this.slotOfId(keyId);
    // Cannot happen with a store written by the decider; an event for an unknown key changes nothing (as in evolveKey).
    if (slot < 0) return;
    this.answers.delete(slot);
    switch (type) {
      case 'KeyRenamed':
        this.setName(slot, name as string);
        return;
      case 'KeyDeactivated':
        this.flags[slot] &= ~ACTIVE;
        return;
      case 'KeyReactivated':
        this.flags[slot] |= ACTIVE;
        return;
      case 'KeyExpirySet':
        this.setExpiry(slot, expiresAt);
        return;
      case 'KeyExpired':
        this.flags[slot] = (this.flags[slot] | EXPIRED) & ~ACTIVE;
        return;
      case 'KeyDeleted':
        this.flags[slot] = (this.flags[slot] | DELETED) & ~ACTIVE;
        return;
      case 'KeyRevoked':
        this.flags[slot] = (this.flags[slot] | REVOKED) & ~ACTIVE;
        return;
      default:
        assertNever(type);
    }
  }

  private create(keyId: number, accountId: number, billing: boolean, name: string, hashHex: string, expiresAt: string | null): void {
    if (this.count === this.capacity) this.grow(this.capacity * 2);
    const slot = this.count;
    const offset = slot * DIGEST_BYTES;
    // Hex straight into the digest buffer: no intermediate Buffer or string per key.
    this.digests.write(hashHex, offset, DIGEST_BYTES, 'hex');
    this.count++;
    this.keyIds[slot] = keyId;
    this.accountIds[slot] = accountId;
    this.flags[slot] = (billing ? BILLING : 0) | ACTIVE;
    this.setName(slot, name);
    this.setExpiry(slot, expiresAt);
    this.setSlotOfId(keyId, slot);
    this.insert(slot, false);
  }

  private setName(slot: number, name: string): void {
    // At most 3 bytes per UTF-16 unit; making room first lets one write() both encode and measure.
    this.reserveNameBytes(name.length * 3);
    const written = this.nameBytes.write(name, this.nameBytesUsed, 'utf8');
    this.nameOffsets[slot] = this.nameBytesUsed;
    this.nameLengths[slot] = written;
    this.nameBytesUsed += written;
  }

  private reserveNameBytes(room: number): void {
    if (this.nameBytesUsed + room <= this.nameBytes.length) return;
    const bigger = Buffer.alloc(Math.max(this.nameBytes.length * 2, this.nameBytesUsed + room));
    this.nameBytes.copy(bigger, 0, 0, this.nameBytesUsed);
    this.nameBytes = bigger;
  }

  private setExpiry(slot: number, expiresAt: string | null): void {
    if (expiresAt === null) {
      this.flags[slot] &= ~EXPIRES;
      this.expiries.delete(slot);
      return;
    }
    const ms = Date.parse(expiresAt);
    this.flags[slot] |= EXPIRES;
    this.expiries.set(slot, { iso: expiresAt, ms: Number.isNaN(ms) ? null : ms });
  }

  private slotOfId(keyId: number): number {
    if (keyId < this.slotById.length) return this.slotById[keyId] - 1;
    const odd = this.slotByOddId.get(keyId);
    return odd === undefined ? -1 : odd;
  }

  private setSlotOfId(keyId: number, slot: number): void {
    if (keyId >= this.slotById.length && keyId < 4 * this.capacity + 65_536) {
      const bigger = new Int32Array(Math.max(this.slotById.length * 2, keyId + 1));
      bigger.set(this.slotById);
      this.slotById = bigger;
    }
    if (keyId < this.slotById.length) this.slotById[keyId] = slot + 1;
    else this.slotByOddId.set(keyId, slot);
  }

  /**
   * Puts the slot's digest in the table. A digest already there (never, with SHA-256 of random keys) now names
   * this slot, as a Map.set would; `unique` skips that check when re-inserting the table's own slots.
   */
  private insert(slot: number, unique: boolean): void {
    const mask = this.buckets.length - 1;
    const digests = this.digests;
    const offset = slot * DIGEST_BYTES;
    const word = digests.readInt32LE(offset);
    let bucket = word & mask;
    for (;;) {
      const entry = this.buckets[bucket];
      if (entry === 0 || (!unique && digests.readInt32LE((entry - 1) * DIGEST_BYTES) === word && this.sameDigest(entry - 1, offset))) {
        this.buckets[bucket] = slot + 1;
        return;
      }
      bucket = (bucket + 1) & mask;
    }
  }

  private sameDigest(slot: number, offset: number): boolean {
    const digests = this.digests;
    const other = slot * DIGEST_BYTES;
    for (let i = 0; i < DIGEST_BYTES; i++) if (digests[other + i] !== digests[offset + i]) return false;
    return true;
  }

  private grow(capacity: number): void {
    const used = this.count;
    const digests = Buffer.alloc(capacity * DIGEST_BYTES);
    this.digests.copy(digests, 0, 0, used * DIGEST_BYTES);
    this.digests = digests;
    this.keyIds = grown(this.keyIds, new Float64Array(capacity), used);
    this.accountIds = grown(this.accountIds, new Float64Array(capacity), used);
    this.flags = grown(this.flags, new Uint8Array(capacity), used);
    this.nameOffsets = grown(this.nameOffsets, new Uint32Array(capacity), used);
    this.nameLengths = grown(this.nameLengths, new Uint16Array(capacity), used);
    this.capacity = capacity;
    // Re-inserted from the old buckets rather than by slot: they hold exactly one slot per digest.
    const old = this.buckets;
    // At most ~55% full, a power of two: linear probing stays short.
    this.buckets = new Int32Array(2 ** Math.ceil(Math.log2(capacity * 1.8)));
    for (let bucket = 0; bucket < old.length; bucket++) if (old[bucket] !== 0) this.insert(old[bucket] - 1, true);
  }
}

function grown<T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(from: T, to: T, used: number): T {
  to.set(from.subarray(0, used));
  return to;
}
