import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export class RollKeyDto {
  /** Overlap during which the old key keeps working; default 24 h, 0 = the old key expires now. */
  @ApiPropertyOptional({ description: 'seconds the old key keeps working (default 86400; 0 = expires now)', type: 'integer', minimum: 0, maximum: 31536000, default: 86400 })
  @IsOptional()
  @IsInt({ message: 'expires_in_seconds must be an integer.' })
  @Min(0, { message: 'expires_in_seconds must be 0 or more.' })
  @Max(31_536_000, { message: 'expires_in_seconds must be at most 31536000 (one year).' })
  expires_in_seconds?: number;
}
