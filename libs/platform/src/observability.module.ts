import { Global, Module } from '@nestjs/common';
import { HealthHttpController } from './health.http.controller';
import { collectDefaultMetricsOnce } from './metrics';
import { ReadinessRegistry } from './readiness';

/** /health, /health/ready and /metrics for any HTTP app, with the process and Node.js runtime metrics. */
@Global()
@Module({
  controllers: [HealthHttpController],
  providers: [ReadinessRegistry],
  exports: [ReadinessRegistry],
})
export class ObservabilityModule {
  constructor() {
    collectDefaultMetricsOnce();
  }
}
