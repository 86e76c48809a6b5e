import type { Kysely } from 'kysely';
import type { Database } from './database';
import { GENESIS_HASH } from './events.table';
import { computeEventHash } from './hash-chain';
import { readAllFrom, type StoredEvent } from './read';

export type ChainBreak = 'hash_mismatch' | 'prev_hash_mismatch' | 'position_gap';

export type VerifyChainResult =
  | { ok: true; count: number; headPosition: number; headHash: string }
  | { ok: false; position: number; reason: ChainBreak; count: number };

export interface VerifyChainOptions {
  /** First position to check; its stored prev_hash is trusted as the starting link. Defaults to 1. */
  from?: number;
  /** Called after each batch with the number of events checked and the head being verified up to. */
  onProgress?: (checked: number, head: number) => void;
  batchSize?: number;
}

/**
 * Recomputes the hash chain from the stored content (docs/audit.md) up to the head as it was when the
 * check started, and names the first position that does not match. `count` is the number of events
 * found intact before that.
 */
export async function verifyChain(
  db: Kysely<Database>,
  options: VerifyChainOptions = {},
): Promise<VerifyChainResult> {
  const from = Math.max(1, options.from ?? 1);
  const head = await db
    .selectFrom('events')
    .select(['position', 'hash'])
    .orderBy('position', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (head === undefined || head.position < from) {
    return { ok: true, count: 0, headPosition: head?.position ?? 0, headHash: head?.hash ?? GENESIS_HASH };
  }

  let expectedPosition = from;
  let expectedPrevHash: string | undefined = from === 1 ? GENESIS_HASH : undefined;
  let count = 0;
  for await (const batch of readAllFrom(db, {
    after: from - 1,
    to: head.position,
    batchSize: options.batchSize ?? 1000,
  })) {
    for (const event of batch) {
      const reason = check(event, expectedPosition, expectedPrevHash ?? event.prevHash);
      if (reason !== null) {
        return { ok: false, position: expectedPosition, reason, count };
      }
      count += 1;
      expectedPosition += 1;
      expectedPrevHash = event.hash;
    }
    options.onProgress?.(count, head.position);
  }
  if (expectedPosition !== head.position + 1) {
    return { ok: false, position: expectedPosition, reason: 'position_gap', count };
  }
  return { ok: true, count, headPosition: head.position, headHash: head.hash };
}

function check(event: StoredEvent, expectedPosition: number, expectedPrevHash: string): ChainBreak | null {
  if (event.position !== expectedPosition) return 'position_gap';
  if (event.prevHash !== expectedPrevHash) return 'prev_hash_mismatch';
  // computeEventHash reads the envelope's fields and the account id; prev_hash/hash do not enter it.
  if (computeEventHash(event.prevHash, event) !== event.hash) return 'hash_mismatch';
  return null;
}
