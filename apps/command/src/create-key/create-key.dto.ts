import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
import { IsRfc3339DateTime } from '../http/expiry.field';
import { IsKeyName } from '../http/name.field';

export class CreateKeyDto {
  @ApiProperty({ description: 'label, 1–100 characters after trimming and NFC; no control characters, unpaired surrogates or bidi overrides; at least one visible character', minLength: 1, maxLength: 100, example: 'Production' })
  @IsString({ message: 'name must be a string.' })
  @IsKeyName()
  name!: string;

  @ApiPropertyOptional({ description: 'RFC 3339 date-time in the future', format: 'date-time', example: '2030-01-01T00:00:00Z' })
  @IsOptional()
  @IsRfc3339DateTime('expires_at')
  expires_at?: string;

  @ApiPropertyOptional({ description: 'alias of expires_at', format: 'date-time' })
  @IsOptional()
  @IsRfc3339DateTime('expiresAt')
  expiresAt?: string;
}
