import { hash } from 'node:crypto';
import { type DomainEvent, type DomainEventType, type KeyType, type VerifiableKey, type Verdict, assertNever } from '@keys/domain';
import { KEY_DISPLAY_PREFIX_LENGTH } from '@keys/key-material';

/** What the index needs of an envelope: its global position and the event (metadata is not kept). */
export type IndexableEvent = DomainEvent & { position: number };

/**
 * One event as the catch-up reads it: Postgres extracts the few fields the index folds from the jsonb `data`
 * (parsing whole documents in JS was the largest cost of a cold start). A field the type does not carry is null.
 * The hash and the name stay UTF-8 bytes where they arrived (`bytes`, at an offset, length -1 for null): the hash
 * becomes the digest and the name goes into the index's name buffer without a string in between.
 */
export interface IndexRow {
  position: number;
  type: DomainEventType;
  keyId: number | null;
  accountId: number | null;
  keyType: string | null;
  expiresAt: string | null;
  bytes: Uint8Array;
  /** SHA-256 hex of the key (KeyCreated). */
  hashAt: number;
  hashLength: number;
  nameAt: number;
  nameLength: number;
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
/** Fewer keys than this waiting for the digest table go in one by one; more are sorted first (insertPending). */
const SORTED_INSERT_MIN = 4096;
/** insertPending sorts by this many high bits of the bucket: parts of 16 KB at a million keys, within the L1 cache. */
const PARTITION_BITS = 10;
/** A VALID verdict and its encoding, as the verify controller answers it. */
export interface CachedAnswer {
  verdict: Verdict;
  bytes: Uint8Array;
}

/** Encoded answers kept per index; a bound so that verifying every key once cannot grow memory without end. */
const MAX_CACHED_ANSWERS = 100_000;

/**
 * SHA-256 of a presented key, the index's lookup key. One-shot `crypto.hash` (no Hash object per request), asked
 * for a 'binary' (latin1) string, one character per byte, and copied into bytes: on Node 20 the 'buffer' output of the same
 * call costs about 1.4 µs against 0.3 µs for this, which was a third of a verify answer's handling. `into` lets the
 * hot path reuse one buffer (the lookup does not keep it).
 */
export function digestOfKey(key: string, into: Uint8Array = new Uint8Array(DIGEST_BYTES)): Uint8Array {
  const bytes = hash('sha256', key, 'binary');
  for (let i = 0; i < DIGEST_BYTES; i++) into[i] = bytes.charCodeAt(i);
  return into;
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
 * lookup. About 95 bytes per key in all.
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
  /**
   * Per bucket (a power of two of them) two numbers side by side: slot + 1 (0 for empty) and the digest's second
   * 32 bits. Probing compares those before the digest itself, so passing a bucket costs no read in `digests` (a
   * cache miss each, at a million keys: most of the time a catch-up spent inserting).
   */
  private buckets = new Int32Array(0);
  /**
   * slot + 1 by key id, 0 for none. Key ids come from a sequence, so this is dense; an id far beyond the
   * others (not made by this system's sequence) goes to `slotByOddId` rather than stretching the array.
   */
  private slotById = new Int32Array(0);
  private readonly slotByOddId = new Map<number, number>();
  private readonly answers = new Map<number, CachedAnswer>();
  /** Slots below this are in the digest table; the others wait for the next lookup (insertPending). */
  private inTable = 0;
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
    if (this.inTable < this.count) this.insertPending();
    const buckets = this.buckets;
    const mask = (buckets.length >> 1) - 1;
    const digests = this.digests;
    const tag = word(digest, 4);
    let bucket = word(digest, 0) & mask;
    for (;;) {
      const entry = buckets[2 * bucket];
      if (entry === 0) return -1;
      if (buckets[2 * bucket + 1] === tag) {
        const offset = (entry - 1) * DIGEST_BYTES;
        let i = 0;
        while (i < DIGEST_BYTES && digests[offset + i] === digest[i]) i++;
        if (i === DIGEST_BYTES) return entry - 1;
      }
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
   * The VALID answer (verdict and encoding) stored for this slot, if it still holds for `scope` at `nowMs`. It is
   * dropped whenever an event for the key is applied, so only what changes without an event is left to check: the
   * time against the key's expiry, and the scope asked for. (The other flags are checked too; they cannot have
   * changed while an answer is stored.) The same conditions as judgeKey's VALID, without building the key's object.
   */
  validAnswer(slot: number, scope: KeyType, nowMs: number): CachedAnswer | undefined {
    const answer = this.answers.get(slot);
    if (!answer) return undefined;
    const flags = this.flags[slot];
    if ((flags & (DELETED | REVOKED | EXPIRED)) !== 0 || (flags & ACTIVE) === 0) return undefined;
    if ((flags & BILLING ? 'billing' : 'proxy') !== scope) return undefined;
    if (flags & EXPIRES && (this.expiries.get(slot)?.ms ?? 0) <= nowMs) return undefined;
    return answer;
  }

  /** The key id in `slot`. */
  keyIdAt(slot: number): number {
    return this.keyIds[slot];
  }

  /** Keeps a VALID answer for the slot until the key's next event (validAnswer). */
  cacheAnswer(slot: number, answer: CachedAnswer): void {
    if (this.answers.size >= MAX_CACHED_ANSWERS) this.answers.clear();
    this.answers.set(slot, answer);
  }

  /** Makes room for `keys` more keys at once (a hint: the index grows by itself anyway). */
  reserve(keys: number): void {
    if (this.count + keys > this.capacity) this.grow(this.count + keys);
    this.reserveNameBytes(keys * TYPICAL_NAME_BYTES);
  }

  /**
   * Applies the event only when it is the next position; idempotent for anything already applied. The fold of
   * whole events (tests compare it with the domain's), through the same `applyRow` as the catch-up.
   */
  apply(event: IndexableEvent): ApplyOutcome {
    return this.applyRow(rowOfEvent(event));
  }

  /** Applies the row only when it is the next position; idempotent for anything already applied. */
  applyRow(row: IndexRow): ApplyOutcome {
    if (row.position <= this.appliedPosition) return 'duplicate';
    if (row.position !== this.appliedPosition + 1) return 'gap';
    this.fold(row);
    this.appliedPosition = row.position;
    return 'applied';
  }

  private fold(row: IndexRow): void {
    const type = row.type;
    if (type === 'AccountCreated') return;
    if (type === 'KeyCreated') {
      this.create(row);
      return;
    }
    const slot = row.keyId === null ? -1 : this.slotOfId(row.keyId);
    // Cannot happen with a store written by the decider; an event for an unknown key changes nothing (as in evolveKey).
    if (slot < 0) return;
    this.answers.delete(slot);
    switch (type) {
      case 'KeyRenamed':
        this.setName(slot, row);
        return;
      case 'KeyDeactivated':
        this.flags[slot] &= ~ACTIVE;
        return;
      case 'KeyReactivated':
        this.flags[slot] |= ACTIVE;
        return;
      case 'KeyExpirySet':
        this.setExpiry(slot, row.expiresAt);
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

  private create(row: IndexRow): void {
    if (row.hashLength < 0) throw new Error(`KeyCreated at position ${row.position} has no hash`);
    if (this.count === this.capacity) this.grow(this.capacity * 2);
    const slot = this.count;
    writeDigest(this.digests, slot * DIGEST_BYTES, row.bytes, row.hashAt, row.hashLength);
    this.count++;
    const keyId = row.keyId as number;
    this.keyIds[slot] = keyId;
    this.accountIds[slot] = row.accountId as number;
    this.flags[slot] = (row.keyType === 'billing' ? BILLING : 0) | ACTIVE;
    this.setName(slot, row);
    this.setExpiry(slot, row.expiresAt);
    this.setSlotOfId(keyId, slot);
    // Not in the digest table yet: see insertPending.
  }

  private setName(slot: number, row: IndexRow): void {
    const length = row.nameLength;
    if (length < 0) throw new Error(`${row.type} at position ${row.position} has no name`);
    this.reserveNameBytes(length);
    const from = row.bytes;
    const to = this.nameBytes;
    const at = this.nameBytesUsed;
    // Names are short: a loop beats the call overhead of a native copy.
    for (let i = 0; i < length; i++) to[at + i] = from[row.nameAt + i];
    this.nameOffsets[slot] = at;
    this.nameLengths[slot] = length;
    this.nameBytesUsed += length;
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
    const offset = slot * DIGEST_BYTES;
    this.insertAt(slot, word(this.digests, offset) & ((this.buckets.length >> 1) - 1), word(this.digests, offset + 4), unique);
  }

  private insertAt(slot: number, home: number, tag: number, unique: boolean): void {
    const buckets = this.buckets;
    const mask = (buckets.length >> 1) - 1;
    let bucket = home;
    for (;;) {
      const entry = buckets[2 * bucket];
      if (entry === 0 || (!unique && buckets[2 * bucket + 1] === tag && this.sameDigest(entry - 1, slot * DIGEST_BYTES))) {
        buckets[2 * bucket] = slot + 1;
        buckets[2 * bucket + 1] = tag;
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

  /**
   * Puts the keys created since the last lookup into the digest table, before that lookup. Deferred because one at
   * a time, at a million keys, every insert lands in a random place of a 16 MB table: a cache and TLB miss each,
   * which was most of a catch-up's fold. Many at once are first put in order of where they land (a stable counting
   * sort by the bucket's high bits, so two equal digests keep their order and the later still wins), so the table
   * is filled front to back.
   */
  private insertPending(): void {
    const from = this.inTable;
    const n = this.count - from;
    this.inTable = this.count;
    if (n < SORTED_INSERT_MIN) {
      for (let slot = from; slot < from + n; slot++) this.insert(slot, false);
      return;
    }
    const digests = this.digests;
    const mask = (this.buckets.length >> 1) - 1;
    const shift = Math.max(0, Math.log2(mask + 1) - PARTITION_BITS);
    const starts = new Int32Array((mask >>> shift) + 2);
    for (let i = 0; i < n; i++) starts[((word(digests, (from + i) * DIGEST_BYTES) & mask) >>> shift) + 1]++;
    for (let p = 1; p < starts.length; p++) starts[p] += starts[p - 1];
    const slots = new Int32Array(n);
    const homes = new Int32Array(n);
    const tags = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const offset = (from + i) * DIGEST_BYTES;
      const home = word(digests, offset) & mask;
      const at = starts[home >>> shift]++;
      slots[at] = from + i;
      homes[at] = home;
      tags[at] = word(digests, offset + 4);
    }
    for (let k = 0; k < n; k++) this.insertAt(slots[k], homes[k], tags[k], false);
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
    this.buckets = new Int32Array(2 * 2 ** Math.ceil(Math.log2(capacity * 1.8)));
    for (let bucket = 0; bucket < old.length; bucket += 2) if (old[bucket] !== 0) this.insert(old[bucket] - 1, true);
  }
}

/** The 32 bits at `at`, little-endian (the digest is uniform: any 32 of its bits are a hash already). */
function word(bytes: Uint8Array, at: number): number {
  return bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24);
}

function grown<T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(from: T, to: T, used: number): T {
  to.set(from.subarray(0, used));
  return to;
}

/** The row the catch-up would read for this event: the fields `data->>'field'` gives, null where the type has none. */
export function rowOfEvent(event: IndexableEvent): IndexRow {
  const data = event.data as Partial<Record<'keyId' | 'accountId' | 'keyType' | 'name' | 'hash' | 'expiresAt', unknown>>;
  const hash = typeof data.hash === 'string' ? Buffer.from(data.hash, 'utf8') : null;
  const name = typeof data.name === 'string' ? Buffer.from(data.name, 'utf8') : null;
  return {
    position: event.position,
    type: event.type,
    keyId: typeof data.keyId === 'number' ? data.keyId : null,
    accountId: typeof data.accountId === 'number' ? data.accountId : null,
    keyType: typeof data.keyType === 'string' ? data.keyType : null,
    expiresAt: typeof data.expiresAt === 'string' ? data.expiresAt : null,
    bytes: Buffer.concat([hash ?? Buffer.alloc(0), name ?? Buffer.alloc(0)]),
    hashAt: 0,
    hashLength: hash ? hash.length : -1,
    nameAt: hash ? hash.length : 0,
    nameLength: name ? name.length : -1,
  };
}

/** Value of a hex digit by character code, -1 for any other byte. */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) HEX[97 + c] = HEX[65 + c] = 10 + c;

/**
 * The digest from the hash's hex bytes, as `Buffer.write(hex)` decodes the hash's text: the common case (64 hex
 * digits) in a loop, anything else through Buffer.write itself, so that even a malformed hash gives the same bytes.
 */
function writeDigest(digests: Buffer, offset: number, bytes: Uint8Array, at: number, length: number): void {
  if (length === 2 * DIGEST_BYTES) {
    let i = 0;
    for (; i < DIGEST_BYTES; i++) {
      const high = HEX[bytes[at + 2 * i]];
      const low = HEX[bytes[at + 2 * i + 1]];
      if (high < 0 || low < 0) break;
      digests[offset + i] = (high << 4) | low;
    }
    if (i === DIGEST_BYTES) return;
  }
  digests.write(Buffer.from(bytes.buffer, bytes.byteOffset + at, length).toString('utf8'), offset, DIGEST_BYTES, 'hex');
}
