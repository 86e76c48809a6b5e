import { Module } from '@nestjs/common';
import { ObservabilityModule } from '@keys/platform';

/** Reference /v1/* edge that authenticates proxy keys through the verifier. */
@Module({ imports: [ObservabilityModule] })
export class GatewayModule {}
