import { Global, Module } from '@nestjs/common';
import { HealthHttpController } from './health.http.controller';
import { ReadinessRegistry } from './readiness';

/** /health, /health/ready and /metrics for any HTTP app. */
@Global()
@Module({
  controllers: [HealthHttpController],
  providers: [ReadinessRegistry],
  exports: [ReadinessRegistry],
})
export class ObservabilityModule {}
