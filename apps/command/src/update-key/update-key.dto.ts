import { IsBoolean, IsISO8601, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';

export class UpdateKeyDto {
  @IsOptional()
  @IsString({ message: 'name must be a string.' })
  @MaxLength(1000, { message: 'name must be at most 100 characters.' })
  name?: string;

  @IsOptional()
  @IsBoolean({ message: 'active must be true or false.' })
  active?: boolean;

  /** null removes the expiry. */
  @ValidateIf((_o, v) => v !== null && v !== undefined)
  @IsISO8601({ strict: true }, { message: 'expires_at must be an ISO-8601 date-time or null.' })
  expires_at?: string | null;

  @ValidateIf((_o, v) => v !== null && v !== undefined)
  @IsISO8601({ strict: true }, { message: 'expiresAt must be an ISO-8601 date-time or null.' })
  expiresAt?: string | null;
}
