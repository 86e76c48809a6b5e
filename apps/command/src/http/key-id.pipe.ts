import { Injectable, PipeTransform } from '@nestjs/common';
import { ApiError } from '@keys/platform';

/** Key ids are positive integers; anything else is a 400 naming `id`, never a lookup or a 500. */
@Injectable()
export class KeyIdPipe implements PipeTransform<string, number> {
  transform(value: string): number {
    if (!/^[1-9]\d{0,14}$/.test(value)) throw ApiError.validation('The key id must be a positive integer.', 'id');
    return Number(value);
  }
}
