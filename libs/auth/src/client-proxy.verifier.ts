import { type Observable, TimeoutError, firstValueFrom, timeout } from 'rxjs';
import { DEFAULT_SUBJECT_PREFIX, verifySubject } from './events';
import { VerifierUnavailableError } from './nats-key.verifier';
import { asVerdict, type KeyType, type Verdict, type VerifyRequest } from './verdict';

/** What this needs of a `ClientProxy` (@nestjs/microservices), so the package does not depend on it. */
export interface MessageClient {
  send<TResult = unknown, TInput = unknown>(pattern: string, data: TInput): Observable<TResult>;
}

export interface VerifyWithClientOptions {
  /** `KEYS_SUBJECT_PREFIX` (default `keys.v1`). */
  subjectPrefix?: string;
  /** Per attempt; a ClientProxy has no timeout of its own (default 500). */
  timeoutMs?: number;
  /** Extra attempts when no verifier is subscribed, e.g. during a rolling restart (default 3). */
  noResponderRetries?: number;
  /** First pause before a no-responder retry; doubles each time (default 20). */
  retryBackoffMs?: number;
}

/**
 * Verifies through a Nest NATS `ClientProxy` the service already has: `client.send('<prefix>.verify', {key, scope})`,
 * which the verifier answers in Nest's response envelope, so it resolves to the verdict (refusals included).
 * Rejects with VerifierUnavailableError (no_responders, timeout, bad_answer, disconnected) when there is no verdict.
 */
export async function verifyWithClient(client: MessageClient, key: string, scope: KeyType, options: VerifyWithClientOptions = {}): Promise<Verdict> {
  const subject = verifySubject(options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX);
  const timeoutMs = options.timeoutMs ?? 500;
  const retries = options.noResponderRetries ?? 3;
  const backoffMs = options.retryBackoffMs ?? 20;
  for (let attempt = 0; ; attempt++) {
    let answer: unknown;
    try {
      answer = await firstValueFrom(client.send<unknown, VerifyRequest>(subject, { key, scope }).pipe(timeout(timeoutMs)));
    } catch (err) {
      if (err instanceof TimeoutError) throw new VerifierUnavailableError('timeout', `The key verifier did not answer within ${timeoutMs} ms.`);
      if (isNoResponders(err)) {
        if (attempt < retries) {
          await new Promise((resolve) => setTimeout(resolve, backoffMs * 2 ** attempt));
          continue;
        }
        throw new VerifierUnavailableError('no_responders', 'No key verifier is running.');
      }
      throw new VerifierUnavailableError('disconnected', `The verify request failed: ${(err as Error)?.message ?? String(err)}`);
    }
    const verdict = asVerdict(answer);
    if (!verdict) throw new VerifierUnavailableError('bad_answer', 'The key verifier answered in an unknown shape.');
    return verdict;
  }
}

/** Nest's ClientNats reports NATS "no responders" as an EmptyResponseException (matched by name: no import). */
function isNoResponders(err: unknown): boolean {
  return (err as Error | null)?.constructor?.name === 'EmptyResponseException';
}
