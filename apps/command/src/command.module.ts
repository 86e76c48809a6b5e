import { Module } from '@nestjs/common';
import { ObservabilityModule } from '@keys/platform';

/** HTTP API for key management (DESIGN §4). */
@Module({ imports: [ObservabilityModule] })
export class CommandModule {}
