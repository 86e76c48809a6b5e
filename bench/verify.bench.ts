import { type NatsConnection } from 'nats';
import { connectNats, verifySubject } from '@keys/bus';
import { openEventStore } from '@keys/event-store';
import { KeyCommandService, createKeyEventAppender } from '@keys/key-service';
import { type AppProcess, cpuSecondsOf, startApp, startScript, waitForHttp } from './app-process';
import { pidsNamed, writeSyscallsOf } from './cpu-meter';
import type { BenchEnv } from './bench-env';
import { type BenchResult, percentile, round, throughput } from './bench-result';

const KEYS = 1000;
const IN_FLIGHT = 64;
const operator = { actor: { type: 'operator' as const, name: 'bench' }, ipAddress: null, userAgent: null, correlationId: 'bench' };

/**
 * verify_throughput (answers/s at 64 in flight) and verify_p50 (µs at 1 in flight): the verifier in its own
 * process holding KEYS keys, against a no-op responder in its own process that answers the same request
 * with bytes of the same size. The load generator (nats.js requests) runs in this process for both.
 */
export async function verifyBenchmarks(env: BenchEnv, durationMs: number, wanted: (name: string) => boolean): Promise<BenchResult[]> {
  const db = await openEventStore(env.databaseUrl, { max: 4 });
  const keys = new KeyCommandService(db, createKeyEventAppender(db));
  const { accountId } = await keys.createAccount('bench', operator);
  const created: string[] = [];
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (created.length < KEYS) created.push((await keys.createKey({ accountId, keyType: 'proxy', name: 'bench', expiresAt: null }, operator)).key);
    }),
  );
  await db.destroy();

  const shared = { DATABASE_URL: env.databaseUrl, NATS_URL: env.natsUrl, KEYS_STREAM: env.streamName, KEYS_SUBJECT_PREFIX: env.subjectPrefix };
  const verifier = startApp('verifier', { ...shared, PORT: '3902' });
  let noop: AppProcess | null = null;
  const nc = await connectNats({ url: env.natsUrl }, 'keys-bench-load');
  try {
    await waitForHttp('http://127.0.0.1:3902/health/ready');
    // One valid key in the middle of the index, the same request bytes for both responders.
    const payload = new TextEncoder().encode(JSON.stringify({ key: created[KEYS / 2], scope: 'proxy' }));
    const verifySubj = verifySubject(env.subjectPrefix);
    const validAnswer = (await nc.request(verifySubj, payload, { timeout: 5000 })).data;
    if (!(JSON.parse(new TextDecoder().decode(validAnswer)) as { valid: boolean }).valid) throw new Error('the verifier did not answer VALID');

    const noopSubj = `${env.subjectPrefix}.noop`;
    noop = startScript('bench/noop-responder.ts', { NATS_URL: env.natsUrl, NOOP_SUBJECT: noopSubj, NOOP_ANSWER: Buffer.from(validAnswer).toString('base64') });
    await waitForResponder(nc, noopSubj, payload);

    const results: BenchResult[] = [];
    if (wanted('verify_throughput')) {
      // Warm both up (JIT, connection buffers) before measuring.
      await requestThroughput(nc, verifySubj, payload, validAnswer.length, IN_FLIGHT, 1000);
      await requestThroughput(nc, noopSubj, payload, validAnswer.length, IN_FLIGHT, 1000);
      // The two are measured in alternating slices, so a change in the machine's load during the run (this machine
      // is shared and noisy) weighs on both alike instead of on whichever ran at the time.
      // CPU per answer of every process in the loop: on a small machine they share the cores, so whatever
      // the responder spends per answer is taken from the load generator and the NATS server.
      const oursTotal = new CpuTotals();
      const theirsTotal = new CpuTotals();
      const sliceMs = durationMs / THROUGHPUT_SLICES;
      for (let slice = 0; slice < THROUGHPUT_SLICES; slice++) {
        oursTotal.add(await withCpu(verifier, () => requestThroughput(nc, verifySubj, payload, validAnswer.length, IN_FLIGHT, sliceMs)));
        theirsTotal.add(await withCpu(noop, () => requestThroughput(nc, noopSubj, payload, validAnswer.length, IN_FLIGHT, sliceMs)));
      }
      const ours = oursTotal.perAnswer();
      const theirs = theirsTotal.perAnswer();
      const ratio = ours.rate / theirs.rate;
      results.push({
        name: 'verify_throughput',
        value: round(ours.rate),
        unit: 'answers/s',
        baseline: round(theirs.rate),
        ratio: round(ratio),
        target: 'ratio >= 0.9',
        met: ratio >= 0.9,
        notes: {
          responder_cpu_us: round(ours.responderUs, 1),
          baseline_responder_cpu_us: round(theirs.responderUs, 1),
          generator_cpu_us: round(ours.generatorUs, 1),
          nats_cpu_us: round(ours.natsUs, 1),
          responder_writes_per_answer: round(ours.writesPerAnswer, 3),
          baseline_writes_per_answer: round(theirs.writesPerAnswer, 3),
        },
      });
    }
    if (wanted('verify_p50')) {
      await requestLatencies(nc, verifySubj, payload, validAnswer.length, 500);
      await requestLatencies(nc, noopSubj, payload, validAnswer.length, 500);
      const ours = await requestLatencies(nc, verifySubj, payload, validAnswer.length, durationMs);
      const theirs = await requestLatencies(nc, noopSubj, payload, validAnswer.length, durationMs);
      const value = percentile(ours, 50);
      const baseline = percentile(theirs, 50);
      results.push({
        name: 'verify_p50',
        value: round(value, 1),
        unit: 'µs',
        baseline: round(baseline, 1),
        ratio: round(value / baseline),
        target: '<= baseline + 30 µs',
        met: value <= baseline + 30,
        notes: { p99_us: round(percentile(ours, 99), 1), baseline_p99_us: round(percentile(theirs, 99), 1), requests: ours.length },
      });
    }
    return results;
  } finally {
    await nc.close();
    await noop?.stop();
    await verifier.stop();
  }
}

/** Slices of the throughput window, alternating between the verifier and the baseline. */
const THROUGHPUT_SLICES = 5;

interface CpuSlice {
  answers: number;
  seconds: number;
  responder: number;
  generator: number;
  nats: number;
  writes: number;
}

/** Sums of measured slices; per answer at the end. */
class CpuTotals {
  private total: CpuSlice = { answers: 0, seconds: 0, responder: 0, generator: 0, nats: 0, writes: 0 };

  add(slice: CpuSlice): void {
    for (const key of Object.keys(this.total) as Array<keyof CpuSlice>) this.total[key] += slice[key];
  }

  perAnswer(): { rate: number; responderUs: number; generatorUs: number; natsUs: number; writesPerAnswer: number } {
    const { answers, seconds } = this.total;
    const us = (cpuSeconds: number) => (cpuSeconds * 1e6) / answers;
    return { rate: answers / seconds, responderUs: us(this.total.responder), generatorUs: us(this.total.generator), natsUs: us(this.total.nats), writesPerAnswer: this.total.writes / answers };
  }
}

/** Runs a throughput measurement; its answers, seconds, and the CPU seconds of the responder, this process and nats-server. */
async function withCpu(responder: AppProcess, run: () => Promise<number>): Promise<CpuSlice> {
  const nats = natsServerPid();
  const before = { responder: responder.cpuSeconds(), generator: cpuSecondsOf(undefined), nats: nats ? cpuSecondsOf(nats) : 0, writes: writeSyscallsOf(responder.child.pid) };
  const started = process.hrtime.bigint();
  const rate = await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    answers: rate * seconds,
    seconds,
    responder: responder.cpuSeconds() - before.responder,
    generator: cpuSecondsOf(undefined) - before.generator,
    nats: nats ? cpuSecondsOf(nats) - before.nats : NaN,
    writes: writeSyscallsOf(responder.child.pid) - before.writes,
  };
}

/** The local nats-server's pid (read-only use: its CPU time), if it runs on this machine. */
function natsServerPid(): number | null {
  return pidsNamed('nats-server')[0] ?? null;
}

async function requestThroughput(nc: NatsConnection, subject: string, payload: Uint8Array, answerLength: number, inFlight: number, durationMs: number): Promise<number> {
  return throughput(inFlight, durationMs, async () => {
    const answer = await nc.request(subject, payload, { timeout: 5000 });
    if (answer.data.length !== answerLength) throw new Error(`unexpected answer on ${subject}`);
  });
}

/** Sorted round-trip times in µs, one request at a time. */
async function requestLatencies(nc: NatsConnection, subject: string, payload: Uint8Array, answerLength: number, durationMs: number): Promise<number[]> {
  const samples: number[] = [];
  const deadline = Date.now() + durationMs;
  while (Date.now() < deadline) {
    const started = process.hrtime.bigint();
    const answer = await nc.request(subject, payload, { timeout: 5000 });
    samples.push(Number(process.hrtime.bigint() - started) / 1000);
    if (answer.data.length !== answerLength) throw new Error(`unexpected answer on ${subject}`);
  }
  return samples.sort((a, b) => a - b);
}

async function waitForResponder(nc: NatsConnection, subject: string, payload: Uint8Array, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await nc.request(subject, payload, { timeout: 500 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`nothing answers ${subject}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
