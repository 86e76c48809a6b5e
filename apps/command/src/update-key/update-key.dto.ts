import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, ValidateIf } from 'class-validator';
import { IsRfc3339DateTime } from '../http/expiry.field';
import { IsKeyName } from '../http/name.field';

export class UpdateKeyDto {
  @ApiPropertyOptional({ description: 'new label, same rules as on create', minLength: 1, maxLength: 100 })
  @IsOptional()
  @IsString({ message: 'name must be a string.' })
  @IsKeyName()
  name?: string;

  @ApiPropertyOptional({ description: 'false deactivates, true reactivates' })
  @IsOptional()
  @IsBoolean({ message: 'active must be true or false.' })
  active?: boolean;

  /** null removes the expiry. */
  @ApiPropertyOptional({ description: 'RFC 3339 date-time in the future, or null to remove the expiry', nullable: true, type: String, format: 'date-time' })
  @ValidateIf((_o, v) => v !== null && v !== undefined)
  @IsRfc3339DateTime('expires_at', true)
  expires_at?: string | null;

  @ApiPropertyOptional({ description: 'alias of expires_at', nullable: true, type: String, format: 'date-time' })
  @ValidateIf((_o, v) => v !== null && v !== undefined)
  @IsRfc3339DateTime('expiresAt', true)
  expiresAt?: string | null;
}
