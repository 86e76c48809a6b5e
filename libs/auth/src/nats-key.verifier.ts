import { ErrorCode, type NatsConnection, type NatsError } from 'nats';
import { DEFAULT_SUBJECT_PREFIX, verifySubject } from './events';
import type { KeyVerifier } from './key-verifier';
import { counter, histogram } from './metrics';
import { asVerdict, type KeyType, type Verdict } from './verdict';

export type VerifierUnavailableReason = 'disconnected' | 'no_responders' | 'timeout' | 'bad_answer';

/** No verdict could be had (NATS away, no verifier running, no answer in time): the caller answers 503. */
export class VerifierUnavailableError extends Error {
  override readonly name = 'VerifierUnavailableError';
  constructor(
    readonly reason: VerifierUnavailableReason,
    message: string,
  ) {
    super(message);
  }
}

export interface NatsKeyVerifierOptions {
  /** `KEYS_SUBJECT_PREFIX` (default `keys.v1`); requests go to `<prefix>.verify`. */
  subjectPrefix?: string;
  /** Per attempt (default 500). */
  timeoutMs?: number;
  /** Extra attempts when no verifier is subscribed, e.g. during a rolling restart (default 3). */
  noResponderRetries?: number;
  /** First pause before a no-responder retry; doubles each time (default 20). */
  retryBackoffMs?: number;
  /**
   * Extra attempts after a timeout (default 1). A verifier that leaves the queue group to catch up drops the
   * requests it already had; asking again reaches an instance that is current.
   */
  timeoutRetries?: number;
}

/** A connection, or a function giving the current one (null while disconnected, to fail fast). */
export type NatsConnectionSource = NatsConnection | (() => NatsConnection | null);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const clientDuration = histogram({
  name: 'keys_verify_client_duration_seconds',
  help: 'Time a verification took as its client saw it (retries included), by outcome: valid, refused (a verdict other than VALID) or unavailable (no verdict)',
  labelNames: ['outcome'],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
});
const clientErrors = counter({
  name: 'keys_verify_client_errors_total',
  help: 'Verifications that got no verdict, by reason: disconnected, no_responders, timeout, bad_answer',
  labelNames: ['reason'],
});

/**
 * The client side of docs/verification.md: one NATS request per verification. Refusals come back as verdicts; only
 * "no verdict at all" throws (VerifierUnavailableError). The key is sent to the verifier and nowhere else.
 */
export class NatsKeyVerifier implements KeyVerifier {
  private readonly subject: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly timeoutRetries: number;

  constructor(
    private readonly connection: NatsConnectionSource,
    options: NatsKeyVerifierOptions = {},
  ) {
    this.subject = verifySubject(options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX);
    this.timeoutMs = options.timeoutMs ?? 500;
    this.retries = options.noResponderRetries ?? 3;
    this.backoffMs = options.retryBackoffMs ?? 20;
    this.timeoutRetries = options.timeoutRetries ?? 1;
  }

  async verify(key: string, scope: KeyType): Promise<Verdict> {
    const stopTimer = clientDuration.startTimer();
    try {
      const verdict = await this.request(key, scope);
      stopTimer({ outcome: verdict.valid ? 'valid' : 'refused' });
      return verdict;
    } catch (err) {
      stopTimer({ outcome: 'unavailable' });
      clientErrors.inc({ reason: err instanceof VerifierUnavailableError ? err.reason : 'other' });
      throw err;
    }
  }

  private async request(key: string, scope: KeyType): Promise<Verdict> {
    const body = encoder.encode(JSON.stringify({ key, scope }));
    let timeouts = 0;
    for (let attempt = 0; ; attempt++) {
      const nc = typeof this.connection === 'function' ? this.connection() : this.connection;
      if (!nc || nc.isClosed()) throw new VerifierUnavailableError('disconnected', 'Not connected to NATS.');
      let data: Uint8Array;
      try {
        data = (await nc.request(this.subject, body, { timeout: this.timeoutMs })).data;
      } catch (err) {
        const code = (err as NatsError).code;
        if (code === ErrorCode.NoResponders) {
          if (attempt < this.retries) {
            await new Promise((resolve) => setTimeout(resolve, this.backoffMs * 2 ** attempt));
            continue;
          }
          throw new VerifierUnavailableError('no_responders', 'No key verifier is running.');
        }
        if (code === ErrorCode.Timeout) {
          if (timeouts++ < this.timeoutRetries) continue;
          throw new VerifierUnavailableError('timeout', `The key verifier did not answer within ${this.timeoutMs} ms.`);
        }
        throw new VerifierUnavailableError('disconnected', `The verify request failed: ${(err as Error).message}`);
      }
      return toVerdict(data);
    }
  }
}

function toVerdict(data: Uint8Array): Verdict {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch {
    throw new VerifierUnavailableError('bad_answer', 'The key verifier answered something that is not JSON.');
  }
  const verdict = asVerdict(value);
  if (!verdict) throw new VerifierUnavailableError('bad_answer', 'The key verifier answered in an unknown shape.');
  return verdict;
}
