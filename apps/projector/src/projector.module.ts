import { Module } from '@nestjs/common';
import { ObservabilityModule } from '@keys/platform';

/** Builds the keys and security_log read models from the key events. */
@Module({ imports: [ObservabilityModule] })
export class ProjectorModule {}
