import { Module } from '@nestjs/common';
import { ObservabilityModule } from '@keys/platform';

/** Answers keys.v1.verify from an in-memory key index. */
@Module({ imports: [ObservabilityModule] })
export class VerifierModule {}
