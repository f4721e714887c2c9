import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ZodPipe } from '../common/index.js';
import { ChannelFaults, DeliveriesRepository } from '../delivery/index.js';
import { AdminTokenGuard } from './admin-token.guard.js';

const problemsQuery = z.strictObject({
  kind: z.enum(['failed', 'skipped', 'unresolved', 'settled']).default('failed'),
  since: z.iso
    .datetime({ offset: true, message: 'must be an ISO date-time, e.g. 2026-11-30T00:00:00Z' })
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** For the operator who must explain every missing message: what failed, and why. */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('api/v1/admin')
export class AdminDeliveriesController {
  constructor(
    private readonly deliveries: DeliveriesRepository,
    private readonly faults: ChannelFaults,
  ) {}

  @Get('deliveries')
  @ApiOperation({
    summary:
      'Deliveries that did not simply go: failed or skipped (with the reason), unresolved ' +
      '(outcome unknown, provider log unreachable), or settled after a crash mid-send',
  })
  @ApiQuery({ name: 'kind', required: false, enum: ['failed', 'skipped', 'unresolved', 'settled'] })
  @ApiQuery({ name: 'since', required: false, description: 'ISO date-time; default 7 days ago' })
  @ApiQuery({ name: 'limit', required: false, description: '1-500, default 100' })
  async problems(@Query(new ZodPipe(problemsQuery)) q: z.output<typeof problemsQuery>) {
    const since = q.since ? new Date(q.since) : new Date(Date.now() - 7 * 86_400_000);
    const rows = await this.deliveries.listProblems({ kind: q.kind, since, limit: q.limit });
    return {
      kind: q.kind,
      since: since.toISOString(),
      deliveries: rows.map((r) => ({ ...r, updatedAt: r.updatedAt.toISOString() })),
    };
  }

  @Get('channels')
  @ApiOperation({ summary: 'Each channel: sending, or paused by a configuration fault and why' })
  async channels() {
    const all = await this.faults.all();
    return Object.fromEntries(
      Object.entries(all).map(([channel, fault]) => [
        channel,
        fault ? { status: 'paused', ...fault } : { status: 'sending' },
      ]),
    );
  }
}
