import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { register } from 'prom-client';
import { ApiError } from './api-error';
import { ReadinessRegistry } from './readiness';

@Controller()
export class HealthHttpController {
  constructor(private readonly readiness: ReadinessRegistry) {}

  @Get('health')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('health/ready')
  async ready(@Res() res: Response): Promise<void> {
    const { ready, checks } = await this.readiness.run();
    if (ready) {
      res.status(200).json({ status: 'ready', checks });
      return;
    }
    const error = ApiError.unavailable('Not ready: a backing service is unreachable or the app is catching up.');
    res.status(503).json({ ...error.body(), status: 'unavailable', checks });
  }

  @Get('metrics')
  async metrics(@Res() res: Response): Promise<void> {
    res.setHeader('Content-Type', register.contentType);
    res.send(await register.metrics());
  }
}
