import { verifyChain } from '@keys/event-store';
import { type Output, parseOptions, positiveInt, progress } from '../cli';
import { openExistingEventStore } from './event-store.session';

export const usage = 'keysctl audit verify [--from <position>] [--json]';

/**
 * Recomputes the hash chain over the whole store (DESIGN §3.4). Exit 0 with `ok <count> events, head
 * <hash>`, or exit 1 naming the first position whose content or link does not match.
 */
export async function verifyAudit(args: string[], out: Output): Promise<number> {
  const values = parseOptions(args, { from: { type: 'string' } });
  const from = positiveInt(values, 'from', 1);
  const db = await openExistingEventStore();
  try {
    const bar = progress('verified');
    let result;
    try {
      result = await verifyChain(db, { from, onProgress: (checked, head) => bar.update(checked, head - from + 1) });
    } finally {
      bar.finish();
    }
    if (result.ok) {
      const { count, headPosition, headHash } = result;
      out.result({ ok: true, count, headPosition, headHash }, `ok ${count} events, head ${headHash}`);
      return 0;
    }
    out.result({ ok: false, position: result.position, reason: result.reason }, `mismatch at position ${result.position} (${result.reason})`);
    return 1;
  } finally {
    await db.destroy();
  }
}
