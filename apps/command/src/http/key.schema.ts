import { ApiProperty, OmitType } from '@nestjs/swagger';

// Response bodies of the key routes as documented in OpenAPI (docs/api.md, Routes). Documentation only: the
// handlers return plain objects (KeyView, KeyReadView) of these shapes.

/** The key object. */
export class KeySchema {
  @ApiProperty({ type: 'integer', minimum: 1, example: 17 })
  id!: number;

  @ApiProperty({ minLength: 1, maxLength: 100, example: 'Production' })
  name!: string;

  @ApiProperty({ description: 'the first 8 characters of the key', pattern: '^m[sk]-[0-9A-Za-z]{5}$', example: 'ms-Ab12x' })
  prefix!: string;

  @ApiProperty({ description: 'false once the key is deactivated, past its expiresAt, revoked or deleted; judged when the answer is made' })
  active!: boolean;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T03:59:01.404Z' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'null when the key does not expire', example: null })
  expiresAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'when the key was revoked (it never authenticates again); null unless revoked', example: null })
  revokedAt!: string | null;

  @ApiProperty({
    type: String,
    // null among the values: OpenAPI 3.0 checks an enum before nullable.
    enum: ['leaked', 'operator', null],
    nullable: true,
    description: '`leaked`: reported by secret scanning; `operator`: revoked by an operator; null unless revoked',
    example: null,
  })
  revokedReason!: 'leaked' | 'operator' | null;

  @ApiProperty({ type: String, nullable: true, description: 'for a leak, the URL where it was reported found; otherwise null', example: null })
  revokedFoundAt!: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'the latest VALID verification, accurate to the verifiers\' flush interval (USAGE_FLUSH_INTERVAL_MS, default 60 s); null if never used',
    example: '2026-11-30T08:12:44.120Z',
  })
  lastUsedAt!: string | null;
}

/** A key just issued (create, roll): the only answer that ever carries the full key. */
// A key just issued is never revoked, so its answer leaves the revocation fields out.
export class CreatedKeySchema extends OmitType(KeySchema, ['revokedAt', 'revokedReason', 'revokedFoundAt'] as const) {
  @ApiProperty({ description: 'the full key, shown this once', pattern: '^m[sk]-[0-9A-Za-z]{49}$' })
  key!: string;
}

export class KeyListSchema {
  @ApiProperty({ type: [KeySchema], description: 'oldest first; deleted keys left out' })
  keys!: KeySchema[];
}

export class DeletedKeySchema {
  @ApiProperty({ type: 'integer', minimum: 1 })
  id!: number;

  @ApiProperty({ enum: [true] })
  deleted!: true;
}
