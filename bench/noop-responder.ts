import { connectNats, natsSettingsFromEnv } from '@keys/bus';

// The baseline for verify_throughput and verify_p50: a process laid out like the verifier (its own node
// process, a NATS connection made by connectNats, a core subscription in a queue group) that answers every
// request with pre-encoded bytes, the same size as the verifier's VALID answer, and does nothing else.
// NOOP_SUBJECT: subject to answer; NOOP_ANSWER: the answer, base64.

async function main(): Promise<void> {
  const subject = process.env.NOOP_SUBJECT;
  const answer = process.env.NOOP_ANSWER;
  if (!subject || !answer) throw new Error('NOOP_SUBJECT and NOOP_ANSWER are required');
  const bytes = new Uint8Array(Buffer.from(answer, 'base64'));
  const nc = await connectNats(natsSettingsFromEnv(), 'keys-bench-noop');
  nc.subscribe(subject, { queue: 'bench-noop', callback: (_err, msg) => msg.respond(bytes) });
  const stop = () => void nc.drain().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err) => {
  console.error(`noop responder failed: ${(err as Error).message}`);
  process.exit(1);
});
