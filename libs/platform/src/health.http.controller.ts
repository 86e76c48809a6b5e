import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { register } from 'prom-client';
import { ApiError } from './api-error';
import { gauge } from './metrics';
import { ReadinessRegistry } from './readiness';

const readyGauge = gauge({ name: 'keys_ready', help: 'Whether the app answered ready (1) or not (0) at its last readiness check (every /health/ready and every scrape)' });
const checkOk = gauge({ name: 'keys_readiness_check_ok', help: 'Outcome of each readiness check at its last run: 1 ok, 0 failing', labelNames: ['check'] });
/** A scrape runs the readiness checks too, with a shorter bound than /health/ready, so a hung dependency cannot stall it. */
const SCRAPE_READINESS_TIMEOUT_MS = 1000;

@Controller()
export class HealthHttpController {
  constructor(private readonly readiness: ReadinessRegistry) {}

  @Get('health')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('health/ready')
  async ready(@Res() res: Response): Promise<void> {
    const { ready, checks } = await this.runReadiness();
    if (ready) {
      res.status(200).json({ status: 'ready', checks });
      return;
    }
    const error = ApiError.unavailable('Not ready: a backing service is unreachable or the app is catching up.');
    res.status(503).json({ ...error.body(), status: 'unavailable', checks });
  }

  @Get('metrics')
  async metrics(@Res() res: Response): Promise<void> {
    await this.runReadiness(SCRAPE_READINESS_TIMEOUT_MS);
    res.setHeader('Content-Type', register.contentType);
    res.send(await register.metrics());
  }

  private async runReadiness(timeoutMs?: number): ReturnType<ReadinessRegistry['run']> {
    const result = await this.readiness.run(timeoutMs);
    readyGauge.set(result.ready ? 1 : 0);
    for (const [name, check] of Object.entries(result.checks)) checkOk.labels(name).set(check.ok ? 1 : 0);
    return result;
  }
}
