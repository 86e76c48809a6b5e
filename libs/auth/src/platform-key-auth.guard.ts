import { Injectable } from '@nestjs/common';
import { ApiError } from '@keys/platform';
import type { KeyAuthError } from './api-error';
import { KeyAuthGuard as PackageKeyAuthGuard } from './key-auth.guard';

/**
 * The guard as this repository's apps use it: refusals are the platform's ApiError, because the platform's
 * exception filter and the command's failure limiter recognise that class (the filter would turn any other
 * HttpException into a generic body by status). Not part of the published package.
 */
@Injectable()
export class KeyAuthGuard extends PackageKeyAuthGuard {
  protected override toException(error: KeyAuthError): unknown {
    return new ApiError(error.getStatus(), error.type, error.code, error.message);
  }
}
