import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { HealthReportDto } from './health.dto.js';
import { HealthService, type HealthReport } from './health.service.js';

/**
 * Readiness: 200 when PostgreSQL and Redis answer, 503 naming what is down and why. Answers
 * within about two seconds whatever is down. Extra entries (a channel paused) come from the
 * HealthRegistry and, unless `down`, keep the answer 200.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get()
  @ApiOperation({ summary: 'PostgreSQL and Redis reachable (200), or what is down and why (503)' })
  @ApiResponse({ status: 200, type: HealthReportDto, description: 'Everything needed answers' })
  @ApiResponse({
    status: 503,
    type: HealthReportDto,
    description: 'Something is down (named in `error`), or the instance is shutting down',
    example: {
      status: 'error',
      info: { postgres: { status: 'up' } },
      error: { redis: { status: 'down', message: 'not reachable (ECONNREFUSED)' } },
      details: {
        postgres: { status: 'up' },
        redis: { status: 'down', message: 'not reachable (ECONNREFUSED)' },
      },
    },
  })
  async check(@Res({ passthrough: true }) res: Response): Promise<HealthReport> {
    const report = await this.health.report();
    res.status(report.status === 'ok' ? 200 : 503);
    return report;
  }
}
