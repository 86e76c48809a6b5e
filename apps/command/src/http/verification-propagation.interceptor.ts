import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { type Observable, mergeMap } from 'rxjs';
import { VerifierPropagation } from '@keys/bus';
import { counter } from '@keys/platform';
import { POSITION_HEADER } from './key.view';

/** How the write's propagation to the verifiers ended: confirmed | fenced | unconfirmed. */
export const PROPAGATION_HEADER = 'X-Keys-Propagation';

const outcomes = counter({ name: 'keys_write_propagation_total', help: 'Writes answered, by how their propagation to the verifiers ended', labelNames: ['outcome'] });

/**
 * Read-your-writes for verification: a write (any response carrying X-Keys-Position) is answered only once
 * every serving verifier has applied its position, or has been ordered out of service until it has
 * (VerifierPropagation). So a key created is VALID, and a key deleted is refused, on every instance that
 * answers after the response.
 */
@Injectable()
export class VerificationPropagationInterceptor implements NestInterceptor {
  constructor(private readonly propagation: VerifierPropagation) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const res = context.switchToHttp().getResponse<Response>();
    return next.handle().pipe(
      mergeMap(async (body: unknown) => {
        const position = Number(res.getHeader(POSITION_HEADER));
        if (Number.isSafeInteger(position) && position > 0) {
          const outcome = await this.propagation.confirm(position);
          outcomes.labels(outcome).inc();
          res.setHeader(PROPAGATION_HEADER, outcome);
        }
        return body;
      }),
    );
  }
}
