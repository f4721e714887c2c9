import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiErrors, ApiZodQuery, ZodPipe } from '../common/index.js';
import { ChannelsDto, ProblemDeliveriesDto } from './admin.dto.js';
import { AdminDeliveriesService, PROBLEM_KINDS } from './admin-deliveries.service.js';
import { AdminTokenGuard } from './admin-token.guard.js';

const problemsQuery = z.strictObject({
  kind: z.enum(PROBLEM_KINDS).default('failed'),
  since: z.iso
    .datetime({ offset: true, message: 'must be an ISO date-time, e.g. 2026-11-30T00:00:00Z' })
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** For the operator who must explain every missing message: what failed, and why. */
@ApiTags('admin')
@ApiBearerAuth('admin')
@ApiErrors({ status: 401, message: 'Authorization: Bearer <ADMIN_TOKEN> is missing or wrong' }, 503)
@UseGuards(AdminTokenGuard)
@Controller('api/v1/admin')
export class AdminDeliveriesController {
  constructor(private readonly deliveries: AdminDeliveriesService) {}

  @Get('deliveries')
  @ApiOperation({
    summary:
      'Deliveries that did not simply go: failed or skipped (with the reason), unresolved ' +
      '(outcome unknown, provider log unreachable), or settled after a crash mid-send',
  })
  @ApiZodQuery(problemsQuery, {
    kind: 'failed or skipped (with the reason), unresolved, or settled after a crash mid-send',
    since: 'changed since this ISO date-time; default 7 days ago',
    limit: 'at most this many, newest first',
  })
  @ApiOkResponse({ type: ProblemDeliveriesDto })
  @ApiErrors({ status: 400, message: 'since: must be an ISO date-time, e.g. 2026-11-30T00:00:00Z' })
  problems(@Query(new ZodPipe(problemsQuery)) q: z.output<typeof problemsQuery>) {
    return this.deliveries.problems(q);
  }

  @Get('channels')
  @ApiOperation({ summary: 'Each channel: sending, or paused by a configuration fault and why' })
  @ApiOkResponse({ type: ChannelsDto })
  channels() {
    return this.deliveries.channels();
  }
}
