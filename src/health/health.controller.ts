import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { sql } from 'kysely';
import { DB, type Db } from '../database/index.js';
import { QueuesService } from '../delivery/queues.service.js';

/** Liveness and readiness: PostgreSQL and Redis answer. 503 when either does not. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(DB) private readonly db: Db,
    private readonly queues: QueuesService,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([
      async () => {
        const probe = this.indicators.check('postgres');
        try {
          await sql`SELECT 1`.execute(this.db);
          return probe.up();
        } catch {
          return probe.down('not reachable');
        }
      },
      async () => {
        const probe = this.indicators.check('redis');
        try {
          return (await this.queues.connection.ping()) === 'PONG'
            ? probe.up()
            : probe.down('no PONG');
        } catch {
          return probe.down('not reachable');
        }
      },
    ]);
  }
}
