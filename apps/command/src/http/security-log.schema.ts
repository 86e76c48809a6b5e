import { ApiProperty, getSchemaPath } from '@nestjs/swagger';

// The security log's answer as documented in OpenAPI (docs/api.md, The security log); documentation only.

export class BillingKeyActorSchema {
  @ApiProperty({ enum: ['billing_key'] })
  type!: 'billing_key';

  @ApiProperty({ type: 'integer', minimum: 1 })
  keyId!: number;

  @ApiProperty({ type: 'integer', minimum: 1 })
  accountId!: number;
}

export class NamedActorSchema {
  @ApiProperty({ enum: ['operator', 'system'], description: 'an operator (keysctl) or the system (e.g. expiry-sweep)' })
  type!: 'operator' | 'system';

  @ApiProperty()
  name!: string;
}

export class SecurityLogDetailsSchema {
  @ApiProperty({ type: 'integer', minimum: 1 })
  keyId!: number;

  @ApiProperty({ enum: ['proxy', 'billing'] })
  keyType!: 'proxy' | 'billing';

  @ApiProperty({ description: 'the key name after the event' })
  name!: string;

  @ApiProperty({ pattern: '^m[sk]-[0-9A-Za-z]{5}$' })
  prefix!: string;

  @ApiProperty({ oneOf: [{ $ref: getSchemaPath(BillingKeyActorSchema) }, { $ref: getSchemaPath(NamedActorSchema) }], description: 'who acted' })
  actor!: BillingKeyActorSchema | NamedActorSchema;

  @ApiProperty({ required: false, enum: ['leaked', 'operator'], description: 'key_revoked only: why the key was revoked' })
  reason?: 'leaked' | 'operator';

  @ApiProperty({ required: false, type: String, nullable: true, description: 'key_revoked only: for a leak, the URL where it was reported found' })
  foundAt?: string | null;
}

export class SecurityLogEntrySchema {
  @ApiProperty({ type: 'integer', minimum: 1, description: "the event's position: stable, and the `before` of the next page" })
  id!: number;

  @ApiProperty({ enum: ['key_created', 'key_renamed', 'key_deactivated', 'key_reactivated', 'key_expiry_set', 'key_expired', 'key_deleted', 'key_revoked'] })
  action!: string;

  @ApiProperty({ type: String, nullable: true, description: 'the client IP; null for operators and the system' })
  ipAddress!: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: SecurityLogDetailsSchema })
  details!: SecurityLogDetailsSchema;
}

export class SecurityLogPageSchema {
  @ApiProperty({ type: [SecurityLogEntrySchema], description: 'newest first' })
  logs!: SecurityLogEntrySchema[];
}
