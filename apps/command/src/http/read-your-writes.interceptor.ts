import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Observable } from 'rxjs';
import type { VerifiedKeyIdentity } from '@keys/domain';
import { ApiError } from '@keys/platform';
import { ProjectionFreshness } from '@keys/read-models';

/** Optional request header: a position (e.g. a write's X-Keys-Position) the read must reflect. */
export const MIN_POSITION_HEADER = 'X-Keys-Min-Position';
/** Set on a read answered before the projector reached the caller's writes (after the wait timed out). */
export const STALE_HEADER = 'X-Keys-Stale';

/**
 * Read-your-writes for the read routes (which serve the projector's asynchronous read models): before the
 * handler runs, wait until the projector has applied every event written for the caller's account (and
 * the position named in X-Keys-Min-Position). Runs after the auth guard, so the caller is known.
 */
@Injectable()
export class ReadYourWritesInterceptor implements NestInterceptor {
  constructor(private readonly freshness: ProjectionFreshness) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request & { caller?: VerifiedKeyIdentity }>();
    const minPosition = parseMinPosition(req.header(MIN_POSITION_HEADER));
    if (req.caller) {
      const freshness = await this.freshness.awaitAccount(req.caller.accountId, minPosition);
      if (!freshness.fresh) http.getResponse<Response>().setHeader(STALE_HEADER, 'true');
    }
    return next.handle();
  }
}

function parseMinPosition(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  if (!/^\d{1,15}$/.test(value.trim())) throw ApiError.validation(`${MIN_POSITION_HEADER} must be a non-negative integer.`, MIN_POSITION_HEADER);
  return Number(value.trim());
}
