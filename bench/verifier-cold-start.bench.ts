import { connectNats, verifySubject } from '@keys/bus';
import { startApp } from './app-process';
import type { BenchEnv } from './bench-env';
import { type BenchResult, round } from './bench-result';
import type { LargeStore } from './million-events.fixture';

const MAX_SECONDS = 5;
const MAX_RSS_MB = 300;
/** A port no other benchmark uses: /health/ready must be this verifier's, even with another bench run on the machine. */
const PORT = 3940;

/**
 * verifier_cold_start: seconds from spawning the verifier process against the large store until it answers
 * a verify correctly (VALID for the key created by the store's last KeyCreated, so the whole store is
 * loaded) and /health/ready is 200; peak RSS sampled from /proc every 20 ms meanwhile.
 */
export async function verifierColdStart(env: BenchEnv, store: LargeStore): Promise<BenchResult> {
  const nc = await connectNats({ url: env.natsUrl }, 'keys-bench-cold-start');
  const subject = verifySubject(env.subjectPrefix);
  const payload = new TextEncoder().encode(JSON.stringify({ key: store.probeKey, scope: 'proxy' }));
  const started = process.hrtime.bigint();
  const verifier = startApp('verifier', { DATABASE_URL: store.databaseUrl, NATS_URL: env.natsUrl, KEYS_STREAM: env.streamName, KEYS_SUBJECT_PREFIX: env.subjectPrefix, PORT: String(PORT) });
  try {
    let answered = false;
    let ready = false;
    const deadline = Date.now() + 120_000;
    while (!(answered && ready)) {
      if (verifier.child.exitCode !== null) throw new Error('the verifier exited during start-up');
      if (Date.now() > deadline) throw new Error('the verifier did not answer within 120 s');
      if (!answered) {
        // No responder yet fails at once ("503"), so this polls without waiting out a timeout; once the verifier
        // listens, it holds the request until its catch-up is done.
        const answer = await nc.request(subject, payload, { timeout: 1000 }).catch(() => null);
        answered = answer !== null && (JSON.parse(new TextDecoder().decode(answer.data)) as { valid: boolean }).valid;
      }
      // Asked only once it answered: the verifier answers VALID for the last key only after its catch-up, and an
      // HTTP probe every 10 ms during the catch-up would take CPU from it (and from Postgres) on the two cores.
      if (answered && !ready) ready = (await fetch(`http://127.0.0.1:${PORT}/health/ready`).catch(() => null))?.status === 200;
      if (!(answered && ready)) await new Promise((r) => setTimeout(r, 10));
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    // Keep sampling a moment: the peak may come right after the first answer (e.g. a late GC).
    await new Promise((r) => setTimeout(r, 500));
    const peakMb = verifier.peakRss() / 2 ** 20;
    return {
      name: 'verifier_cold_start',
      value: round(seconds),
      unit: 's',
      baseline: null,
      ratio: null,
      target: `<= ${MAX_SECONDS} s and <= ${MAX_RSS_MB} MB`,
      met: seconds <= MAX_SECONDS && peakMb <= MAX_RSS_MB,
      notes: { peak_rss_mb: round(peakMb, 1), keys: store.keys, events: store.events },
    };
  } finally {
    await nc.close();
    await verifier.stop();
  }
}
