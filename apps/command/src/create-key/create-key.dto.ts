import { IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';

export class CreateKeyDto {
  @IsString({ message: 'name must be a string.' })
  @MaxLength(1000, { message: 'name must be at most 100 characters.' })
  name!: string;

  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'expires_at must be an ISO-8601 date-time.' })
  expires_at?: string;

  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'expiresAt must be an ISO-8601 date-time.' })
  expiresAt?: string;
}
