import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';

export class CreateKeyDto {
  @ApiProperty({ description: 'label, 1–100 characters after trimming', example: 'Production' })
  @IsString({ message: 'name must be a string.' })
  @MaxLength(1000, { message: 'name must be at most 100 characters.' })
  name!: string;

  @ApiPropertyOptional({ description: 'ISO-8601 instant in the future', example: '2030-01-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'expires_at must be an ISO-8601 date-time.' })
  expires_at?: string;

  @ApiPropertyOptional({ description: 'alias of expires_at' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'expiresAt must be an ISO-8601 date-time.' })
  expiresAt?: string;
}
