import { Logger } from '@nestjs/common';
import type { Msg, NatsConnection, NatsError, Subscription } from 'nats';
import { VERIFIER_QUEUE_GROUP, verifySubject } from '@keys/bus';
import { type Verdict, type VerifyCode, VERIFY_STATUS, judgeKey, refusal } from '@keys/domain';
import { KEY_LENGTH, keyPrefix, parseKey } from '@keys/key-material';
import { ThrottledWarning, counter, histogram, within } from '@keys/platform';
import { type VerifierIndex, digestOfKey } from './verifier-index';
import { KeyUsage } from './key-usage';
import { type ReplySubjectCheck, replySubjectCheck } from './reply-subject';
import { type VerifyRequest, encodeNestAnswer, encodeVerdict, isNestRequest, parseVerifyRequest } from './verify-request';

// Bookkeeping on the hot path costs a few nanoseconds: prom-client's inc and observe allocate and hash labels on every
// call (about 0.5 µs together, a quarter of an answer's handling), so answers are counted in a typed array and added
// to the counter when it is scraped, and the duration is observed for every DURATION_SAMPLE-th answer (a uniform
// sample: its quantiles are the answers'; the count of answers is keys_verifications_total).
const CODES = Object.keys(VERIFY_STATUS) as VerifyCode[];
const CODE_INDEX = Object.fromEntries(CODES.map((code, i) => [code, i])) as Record<VerifyCode, number>;
/** Answers by code (CODES order) not yet added to the counter. */
const uncounted = new Float64Array(CODES.length);
counter({
  name: 'keys_verifications_total',
  help: 'Verification requests answered, by code',
  labelNames: ['code'],
  collect() {
    for (let i = 0; i < CODES.length; i++) {
      if (uncounted[i] === 0) continue;
      this.labels(CODES[i]).inc(uncounted[i]);
      uncounted[i] = 0;
    }
  },
});
const DURATION_SAMPLE = 16;
// The first answer is observed, so the histogram has its series from the start.
let sampleCountdown = 1;
const duration = histogram({
  name: 'keys_verify_duration_seconds',
  help: `Time from receiving a verification request to handing the answer to the client library, observed for every ${DURATION_SAMPLE}th answer`,
  buckets: [0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.005],
});
const refusedReplies = counter({
  name: 'keys_verify_refused_replies_total',
  help: 'Verification requests dropped unanswered because their reply subject is not a requester inbox',
});
const dropped = counter({
  name: 'keys_verify_dropped_total',
  help: 'Verification requests left unanswered because this instance was out of service (fenced, stalled, rejoining), by reason; the caller retries',
  labelNames: ['reason'],
});
/** Most requests held while joining; more are dropped (their callers retry). */
const MAX_HELD = 10_000;

interface Answer {
  verdict: Verdict;
  bytes: Uint8Array;
}

const answerOf = (verdict: Verdict): Answer => ({ verdict, bytes: encodeVerdict(verdict) });
const BAD_REQUEST = answerOf(refusal('BAD_REQUEST'));
const MALFORMED = answerOf(refusal('MALFORMED'));
const NOT_FOUND = answerOf(refusal('NOT_FOUND'));

/**
 * Answers `<prefix>.verify` (docs/verification.md) from the in-memory index. A raw core subscription rather than
 * @nestjs/microservices: this is the hot path, and per request it does only parse, hash, one table lookup,
 * judge and (for a key not asked about since its last change) encode. Every request whose reply subject is
 * a requester's inbox gets an answer; any other is dropped unanswered (reply-subject.ts), since the
 * requester picks that subject. Nothing thrown here can stop the subscription.
 * A request in @nestjs/microservices' NATS envelope (`ClientNats.send`) is answered in that envelope, so Nest
 * callers need no custom (de)serializer; it takes the JSON.parse path (verify-request.ts).
 * The key is never logged.
 */
export class VerifyMessageController {
  private readonly logger = new Logger('verify');
  private subscription: Subscription | null = null;
  /** Requests this instance answered (the metric is process-wide; this is per instance). */
  answered = 0;
  /** Requests this instance dropped for their reply subject (see reply-subject.ts). */
  refused = 0;
  private readonly isInbox: ReplySubjectCheck;
  private readonly refusedWarning = new ThrottledWarning(this.logger);
  /** False once suspended: messages the client library still delivers are dropped. */
  private accepting = true;
  /** Requests waiting for release() while joining; null when answering directly. */
  private held: Msg[] | null = null;
  private stallMs = Number.POSITIVE_INFINITY;
  private lastTickAt = Date.now();
  private onStall: () => void = () => undefined;
  /** The presented key's digest, rewritten by every request (slotOf only compares it). */
  private readonly digest = new Uint8Array(32);

  constructor(
    private readonly index: VerifierIndex,
    private readonly subjectPrefix: string,
    /** Last VALID verification per key, published by UsagePublisher (memory only here). */
    private readonly usage: KeyUsage = new KeyUsage(),
  ) {
    this.isInbox = replySubjectCheck(subjectPrefix);
  }

  /** How stale the membership's heartbeat may be before a request is taken as a sign of a stall. */
  guard(options: { stallMs: number; onStall: () => void }): void {
    this.stallMs = options.stallMs;
    this.onStall = options.onStall;
  }

  /** The membership's heartbeat: this process is running on time. */
  tick(nowMs: number): void {
    this.lastTickAt = nowMs;
  }

  /** Joins the queue group; with `hold`, requests wait (bounded) until release(). */
  listen(nc: NatsConnection, options: { hold?: boolean } = {}): void {
    if (options.hold) this.held ??= [];
    this.accepting = true;
    if (this.subscription) return;
    this.subscription = nc.subscribe(verifySubject(this.subjectPrefix), {
      queue: VERIFIER_QUEUE_GROUP,
      callback: (err, msg) => this.onMessage(err, msg),
    });
  }

  /** Answers the requests held since listen({ hold: true }) and every later one. */
  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const msg of held) this.answerMessage(msg, Date.now());
  }

  /**
   * Leaves the queue group at once, answering nothing more: requests already delivered or held are dropped,
   * so their callers retry and reach an instance that is current.
   */
  suspend(): void {
    this.accepting = false;
    if (this.held) dropped.labels('out_of_service').inc(this.held.length);
    this.held = null;
    const subscription = this.subscription;
    this.subscription = null;
    subscription?.unsubscribe();
  }

  get listening(): boolean {
    return this.subscription !== null && !this.subscription.isClosed();
  }

  /** Leaves the queue group, letting in-flight requests finish (at most 1 s: NATS may be gone). */
  async close(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = null;
    if (subscription && !(await within(1000, subscription.drain()))) subscription.unsubscribe();
  }

  /** The verdict for one request's bytes, plain or in a Nest envelope (exposed for tests and benchmarks). */
  answer(data: Uint8Array): Verdict {
    return this.respond(data, Date.now()).verdict;
  }

  /**
   * The verdict and its encoded answer. The verdict is always `judgeKey`'s, at the time of the request: a VALID
   * answer is reused per key until the next event for that key, and only while the conditions of judgeKey's VALID
   * that can change without an event (the expiry against the clock, the scope asked for) still hold.
   */
  private respond(data: Uint8Array, nowMs: number): Answer {
    const parsed = parseVerifyRequest(data);
    if (!parsed) return BAD_REQUEST;
    if (!isNestRequest(parsed)) return this.judge(parsed, nowMs);
    // A Nest ClientNats request: the same verdict, in the envelope that client unwraps.
    const answer = parsed.request ? this.judge(parsed.request, nowMs) : BAD_REQUEST;
    return { verdict: answer.verdict, bytes: encodeNestAnswer(parsed.nestId, answer.bytes) };
  }

  private judge(request: VerifyRequest, nowMs: number): Answer {
    const key = request.key;
    // A key of the right length is looked up first: a stored digest matches only the very key that was issued,
    // and every issued key is well formed, so for a key the index holds the format checks (prefix, alphabet,
    // checksum) could only pass. They run for a key it does not hold, to tell MALFORMED from NOT_FOUND. Any
    // other length is refused by them before anything is hashed.
    const slot = key.length === KEY_LENGTH ? this.index.slotOf(digestOfKey(key, this.digest)) : -1;
    if (slot < 0) return parseKey(key).ok ? NOT_FOUND : MALFORMED;
    // A key asked about again since its last event: its stored VALID answer, if time and scope still allow it.
    const cached = this.index.validAnswer(slot, request.scope, nowMs);
    if (cached) {
      this.usage.record(slot, this.index.keyIdAt(slot), nowMs);
      return cached;
    }
    const verdict = judgeKey(this.index.keyAt(slot, keyPrefix(key)), request.scope, nowMs);
    if (!verdict.valid) return { verdict, bytes: encodeVerdict(verdict) };
    this.usage.record(slot, verdict.key.id, nowMs);
    const answer = { verdict, bytes: encodeVerdict(verdict) };
    this.index.cacheAnswer(slot, answer);
    return answer;
  }

  private onMessage(err: NatsError | null, msg: Msg): void {
    if (err) {
      this.logger.warn(`verify subscription error: ${err.message}`);
      return;
    }
    const reply = msg.reply;
    if (reply && !this.isInbox(reply)) {
      this.refuse();
      return;
    }
    if (!this.accepting) {
      dropped.labels('out_of_service').inc();
      return;
    }
    const now = Date.now();
    if (now - this.lastTickAt > this.stallMs) {
      // The heartbeat has not run for too long (a pause, a starved event loop): writers may have stopped
      // waiting for this instance, so it must not answer before reading the store again.
      dropped.labels('stalled').inc();
      this.onStall();
      return;
    }
    if (this.held) {
      if (this.held.length < MAX_HELD) this.held.push(msg);
      else dropped.labels('out_of_service').inc();
      return;
    }
    this.answerMessage(msg, now);
  }

  private answerMessage(msg: Msg, now: number): void {
    const timed = --sampleCountdown === 0;
    const started = timed ? performance.now() : 0;
    let answer: Answer;
    try {
      answer = this.respond(msg.data, now);
    } catch (error) {
      // Not expected; answer rather than leave the caller waiting for a timeout.
      this.logger.error(`verify failed: ${(error as Error).message}`);
      answer = BAD_REQUEST;
    }
    try {
      msg.respond(answer.bytes);
    } catch (error) {
      this.logger.warn(`could not answer a verify request: ${(error as Error).message}`);
    }
    this.answered++;
    uncounted[CODE_INDEX[answer.verdict.code]]++;
    if (timed) {
      sampleCountdown = DURATION_SAMPLE;
      duration.observe((performance.now() - started) / 1000);
    }
  }

  /** Drops a request whose reply subject is not an inbox: always counted, logged at most once a minute. */
  private refuse(): void {
    this.refused++;
    refusedReplies.inc();
    // Not the subject itself: the requester chose it.
    this.refusedWarning.warn('dropped a verify request whose reply subject is not a requester inbox');
  }
}
