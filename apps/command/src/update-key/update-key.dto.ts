import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsISO8601, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';

export class UpdateKeyDto {
  @ApiPropertyOptional({ description: 'new label, 1–100 characters after trimming' })
  @IsOptional()
  @IsString({ message: 'name must be a string.' })
  @MaxLength(1000, { message: 'name must be at most 100 characters.' })
  name?: string;

  @ApiPropertyOptional({ description: 'false deactivates, true reactivates' })
  @IsOptional()
  @IsBoolean({ message: 'active must be true or false.' })
  active?: boolean;

  /** null removes the expiry. */
  @ApiPropertyOptional({ description: 'ISO-8601 instant in the future, or null to remove the expiry', nullable: true, type: String })
  @ValidateIf((_o, v) => v !== null && v !== undefined)
  @IsISO8601({ strict: true }, { message: 'expires_at must be an ISO-8601 date-time or null.' })
  expires_at?: string | null;

  @ApiPropertyOptional({ description: 'alias of expires_at', nullable: true, type: String })
  @ValidateIf((_o, v) => v !== null && v !== undefined)
  @IsISO8601({ strict: true }, { message: 'expiresAt must be an ISO-8601 date-time or null.' })
  expiresAt?: string | null;
}
