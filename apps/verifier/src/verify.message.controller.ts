import { Logger } from '@nestjs/common';
import type { Msg, NatsConnection, NatsError, Subscription } from 'nats';
import { VERIFIER_QUEUE_GROUP, verifySubject } from '@keys/bus';
import { type Verdict, type VerifyCode, VERIFY_STATUS, judgeKey, refusal } from '@keys/domain';
import { parseKey } from '@keys/key-material';
import { ThrottledWarning, counter, histogram } from '@keys/platform';
import { type KeyIndex, digestOfKey } from './key-index';
import { type ReplySubjectCheck, replySubjectCheck } from './reply-subject';
import { encodeVerdict, parseVerifyRequest } from './verify-request';

const verifications = counter({ name: 'keys_verifications_total', help: 'Verification requests answered, by code', labelNames: ['code'] });
const duration = histogram({
  name: 'keys_verify_duration_seconds',
  help: 'Time from receiving a verification request to handing the answer to the client library',
  buckets: [0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.005],
});
const refusedReplies = counter({
  name: 'keys_verify_refused_replies_total',
  help: 'Verification requests dropped unanswered because their reply subject is not a requester inbox',
});
// Bound once: labelling per request would hash the label set every time.
const byCode = Object.fromEntries(Object.keys(VERIFY_STATUS).map((code) => [code, verifications.labels(code)])) as Record<VerifyCode, ReturnType<typeof verifications.labels>>;

interface Answer {
  verdict: Verdict;
  bytes: Uint8Array;
}

const answerOf = (verdict: Verdict): Answer => ({ verdict, bytes: encodeVerdict(verdict) });
const BAD_REQUEST = answerOf(refusal('BAD_REQUEST'));
const MALFORMED = answerOf(refusal('MALFORMED'));
const NOT_FOUND = answerOf(refusal('NOT_FOUND'));

/**
 * Answers `<prefix>.verify` (DESIGN §5) from the in-memory index. A raw core subscription rather than
 * @nestjs/microservices: this is the hot path, and per request it does only parse, hash, one table lookup,
 * judge and (for a key not asked about since its last change) encode. Every request whose reply subject is
 * a requester's inbox gets an answer; any other is dropped unanswered (reply-subject.ts), since the
 * requester picks that subject. Nothing thrown here can stop the subscription.
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

  constructor(
    private readonly index: KeyIndex,
    private readonly subjectPrefix: string,
  ) {
    this.isInbox = replySubjectCheck(subjectPrefix);
  }

  listen(nc: NatsConnection): void {
    if (this.subscription) return;
    this.subscription = nc.subscribe(verifySubject(this.subjectPrefix), {
      queue: VERIFIER_QUEUE_GROUP,
      callback: (err, msg) => this.onMessage(err, msg),
    });
  }

  get listening(): boolean {
    return this.subscription !== null && !this.subscription.isClosed();
  }

  /** Leaves the queue group, letting in-flight requests finish. */
  async close(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = null;
    await subscription?.drain().catch(() => undefined);
  }

  /** The verdict for one request's bytes (exposed for tests and benchmarks). */
  answer(data: Uint8Array): Verdict {
    return this.respond(data).verdict;
  }

  /**
   * The verdict and its encoded answer. The verdict is always `judgeKey`'s, at the time of the request;
   * only the encoding of a VALID answer is reused, per key, until the next event for that key.
   */
  private respond(data: Uint8Array): Answer {
    const request = parseVerifyRequest(data);
    if (!request) return BAD_REQUEST;
    const parsed = parseKey(request.key);
    if (!parsed.ok) return MALFORMED;
    const slot = this.index.slotOf(digestOfKey(parsed.key));
    if (slot < 0) return NOT_FOUND;
    const verdict = judgeKey(this.index.keyAt(slot, parsed.prefix), request.scope, Date.now());
    if (!verdict.valid) return { verdict, bytes: encodeVerdict(verdict) };
    let bytes = this.index.cachedAnswer(slot);
    if (!bytes) {
      bytes = encodeVerdict(verdict);
      this.index.cacheAnswer(slot, bytes);
    }
    return { verdict, bytes };
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
    const started = performance.now();
    let answer: Answer;
    try {
      answer = this.respond(msg.data);
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
    byCode[answer.verdict.code].inc();
    duration.observe((performance.now() - started) / 1000);
  }

  /** Drops a request whose reply subject is not an inbox: always counted, logged at most once a minute. */
  private refuse(): void {
    this.refused++;
    refusedReplies.inc();
    // Not the subject itself: the requester chose it.
    this.refusedWarning.warn('dropped a verify request whose reply subject is not a requester inbox');
  }
}
