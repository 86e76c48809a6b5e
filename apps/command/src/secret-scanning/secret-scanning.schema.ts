import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

// GitHub's secret-scanning partner payloads (docs/security.md, Leaked keys); documentation only.

export class LeakReportSchema {
  @ApiProperty({ description: 'the string found; only an ms-/mk- key of ours can be revoked' })
  token!: string;

  @ApiProperty({ description: 'the secret type name registered with GitHub' })
  type!: string;

  @ApiPropertyOptional({ description: 'where it was found; recorded as the revocation\'s foundAt when it is an http(s) URL' })
  url?: string;

  @ApiPropertyOptional({ description: 'the kind of source, e.g. content, commit, gist' })
  source?: string;
}

export class LeakLabelSchema {
  @ApiProperty({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 hex of the reported token' })
  token_hash!: string;

  @ApiProperty({ description: 'the reported type, echoed' })
  token_type!: string;

  @ApiProperty({ enum: ['true_positive', 'false_positive'], description: 'true_positive: a key of ours, revoked because it leaked' })
  label!: 'true_positive' | 'false_positive';
}
