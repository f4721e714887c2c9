import { Controller, Get, Header } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { MetricsService } from './metrics.service.js';

@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @ApiOperation({ summary: 'Prometheus metrics, in its text format' })
  @ApiResponse({
    status: 200,
    description: 'Prometheus text exposition format 0.0.4',
    content: {
      'text/plain': {
        schema: { type: 'string' },
        example: '# HELP selfcare_deliveries_total ...\n',
      },
    },
  })
  @Header('Content-Type', 'text/plain; version=0.0.4')
  render(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
