import { connectNats } from '@keys/bus';
import { verifyChain } from '@keys/event-store';
import { readCoreConfig } from '@keys/platform';
import { type Output, UsageError, parseOptions, positiveInt, progress } from '../cli';
import { openExistingEventStore } from './event-store.session';
import { compareWithStream, describeStreamFinding } from './stream-audit';

const HASH = /^[0-9a-f]{64}$/;

/**
 * Recomputes the hash chain over the whole store (docs/audit.md). Exit 0 with `ok <count> events, head
 * position <n> hash <hash>` (record it: `--expect-head` checks it later), or exit 1 naming the first
 * position whose content or link does not match. A chain is intact after its tail is deleted, so
 * `--expect-head` (a head hash recorded earlier must still be in the store) and `--against-stream` (the
 * JetStream copy must not be ahead of, or differ from, the store) catch truncation.
 */
export async function verifyAudit(args: string[], out: Output): Promise<number> {
  const values = parseOptions(args, { from: { type: 'string' }, 'against-stream': { type: 'boolean', default: false }, 'expect-head': { type: 'string' } });
  const from = positiveInt(values, 'from', 1);
  const expectHead = values['expect-head']?.trim().toLowerCase();
  if (expectHead !== undefined && !HASH.test(expectHead)) throw new UsageError('--expect-head must be a head hash as `audit verify` prints it (64 hex digits)');
  const db = await openExistingEventStore();
  try {
    const bar = progress('verified');
    let result;
    try {
      result = await verifyChain(db, { from, onProgress: (checked, head) => bar.update(checked, head - from + 1) });
    } finally {
      bar.finish();
    }
    if (!result.ok) {
      out.result({ ok: false, position: result.position, reason: result.reason }, `mismatch at position ${result.position} (${result.reason})`);
      return 1;
    }
    const { count, headPosition, headHash } = result;
    const summary: Record<string, unknown> = { ok: true, count, headPosition, headHash };

    if (expectHead !== undefined) {
      const found = await db.selectFrom('events').select('position').where('hash', '=', expectHead).executeTakeFirst();
      if (found === undefined) {
        out.result(
          { ok: false, reason: 'expected_head_missing', expectedHead: expectHead, headPosition, headHash },
          `truncated or rewritten: no event in the store has the expected head hash ${expectHead}; the store now ends at position ${headPosition}`,
        );
        return 1;
      }
      summary.expectedHeadPosition = found.position;
    }

    if (values['against-stream']) {
      const config = readCoreConfig();
      const nc = await connectNats(
        { url: config.natsUrl, user: config.natsUser, password: config.natsPassword, credsFile: config.natsCreds },
        'keysctl-audit',
        { waitOnFirstConnect: false, timeout: 5000, maxReconnectAttempts: 0 },
      );
      try {
        const streamBar = progress('compared with the stream', { unit: 'messages' });
        let comparison;
        try {
          comparison = await compareWithStream(db, nc, config.streamName, { onProgress: (read, total) => streamBar.update(read, total) });
        } finally {
          streamBar.finish();
        }
        if (comparison.findings.length > 0) {
          const first = comparison.findings[0];
          const shown = comparison.findings.slice(0, 10).map((f) => describeStreamFinding(f, config.streamName));
          if (comparison.findings.length > shown.length) shown.push(`and ${comparison.findings.length - shown.length} more`);
          out.result(
            {
              ok: false,
              reason: first.kind === 'truncated' ? 'truncated' : 'stream_mismatch',
              position: 'position' in first ? first.position : null,
              stream: config.streamName,
              storeHead: comparison.storeHead,
              streamLastPosition: comparison.streamLastPosition,
              findings: comparison.findings,
            },
            shown.join('\n'),
          );
          return 1;
        }
        summary.stream = { name: config.streamName, checked: comparison.checked, lastPosition: comparison.streamLastPosition, lastEventId: comparison.streamLastEventId };
      } finally {
        await nc.close();
      }
    }

    const lines = [`ok ${count} events, head position ${headPosition} hash ${headHash}`];
    if (summary.expectedHeadPosition !== undefined) lines.push(`expected head found at position ${String(summary.expectedHeadPosition)}`);
    const stream = summary.stream as { name: string; checked: number; lastPosition: number } | undefined;
    if (stream !== undefined) lines.push(`stream ${stream.name}: ${stream.checked} messages match the store, last position ${stream.lastPosition}`);
    out.result(summary, lines.join('\n'));
    return 0;
  } finally {
    await db.destroy();
  }
}
