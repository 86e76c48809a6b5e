import { ArgumentMetadata, Injectable, PipeTransform, ValidationPipe, type ValidationError } from '@nestjs/common';
import { ApiError } from '@keys/platform';

/**
 * class-validator with unknown fields refused. The first failure becomes a 400 naming its field.
 * Bodies must be JSON objects (an absent body counts as `{}`).
 */
@Injectable()
export class BodyValidationPipe implements PipeTransform {
  private readonly inner = new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors: ValidationError[]) => toValidationError(errors),
  });

  async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'body') return value;
    const body = value === undefined || value === null ? {} : value;
    if (typeof body !== 'object' || Array.isArray(body)) {
      throw ApiError.validation('The request body must be a JSON object.');
    }
    return this.inner.transform(body, metadata);
  }
}

function toValidationError(errors: ValidationError[]): ApiError {
  let error = errors[0];
  let path = error?.property ?? '';
  while (error && !error.constraints && error.children?.length) {
    error = error.children[0];
    path = `${path}.${error.property}`;
  }
  if (!error) return ApiError.validation('The request body is not valid.');
  if (error.constraints?.whitelistValidation) {
    return ApiError.validation(`Unknown field "${path}".`, path);
  }
  const message = Object.values(error.constraints ?? {})[0] ?? `Field "${path}" is not valid.`;
  return ApiError.validation(message, path);
}
