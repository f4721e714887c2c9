import {
  Body,
  Controller,
  Get,
  Param,
  Post,
  Query,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import {
  WEBHOOK_EVENTS,
  WebhookEndpointsService,
  type EndpointView,
} from '../clinic-webhooks/index.js';
import { notFound } from '../common/index.js';
import { AdminOnly, Staff, StaffSessionGuard, type StaffCaller } from '../clinics/index.js';
import { DashboardPages } from './dashboard-pages.js';
import { DashboardErrorFilter, redirectAfterPost, sendPage } from './dashboard.filter.js';
import { DashboardService } from './dashboard.service.js';

const NOTICES: Record<string, string> = {
  removed: 'Endpoint removed. Nothing more is sent to it; what was waiting is cancelled.',
  test: 'Test event queued. Its result shows in the log below within a few seconds; reload to see it.',
  retried: 'Queued to go again. Its result shows in the log below; reload to see it.',
};

const STATUS_WORDS: Record<string, string> = {
  pending: 'Waiting',
  delivered: 'Delivered',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/**
 * The clinic admin's webhooks page: endpoints (add, send a test event, rotate the secret,
 * remove) and the delivery log, with "Send again" for a failed delivery.
 */
@ApiExcludeController()
@UseGuards(StaffSessionGuard)
@UseFilters(DashboardErrorFilter)
@Controller('clinic/webhooks')
export class DashboardWebhooksController {
  constructor(
    private readonly endpoints: WebhookEndpointsService,
    private readonly dashboard: DashboardService,
    private readonly pages: DashboardPages,
  ) {}

  @Get()
  @AdminOnly()
  async list(
    @Staff() staff: StaffCaller,
    @Query() query: Record<string, unknown>,
    @Res() res: Response,
  ) {
    const notice = typeof query.done === 'string' ? (NOTICES[query.done] ?? null) : null;
    sendPage(res, await this.render(staff, { notice, query }));
  }

  @Post()
  @AdminOnly()
  async add(
    @Staff() staff: StaffCaller,
    @Body() body: Record<string, unknown>,
    @Res() res: Response,
  ) {
    const made = await this.endpoints.create(staff.clinicId, body, this.actor(staff));
    sendPage(res, await this.render(staff, { secret: { ...made, verb: 'added' } }));
  }

  @Post('deliveries/:id/retry')
  @AdminOnly()
  async retry(@Staff() staff: StaffCaller, @Param('id') id: string, @Res() res: Response) {
    await this.endpoints.retry(staff.clinicId, id, this.actor(staff));
    redirectAfterPost(res, '/clinic/webhooks?done=retried');
  }

  @Post(':id/test')
  @AdminOnly()
  async test(@Staff() staff: StaffCaller, @Param('id') id: string, @Res() res: Response) {
    await this.endpoints.sendTest(staff.clinicId, id, this.actor(staff));
    redirectAfterPost(res, '/clinic/webhooks?done=test');
  }

  @Get(':id/:action')
  @AdminOnly()
  async confirm(
    @Staff() staff: StaffCaller,
    @Param('id') id: string,
    @Param('action') action: string,
    @Res() res: Response,
  ) {
    if (action !== 'rotate' && action !== 'remove') throw notFound('page not found');
    const endpoint = await this.endpoints.get(staff.clinicId, id);
    const rotate = action === 'rotate';
    sendPage(
      res,
      this.pages.render(
        'confirm-webhook',
        rotate ? 'Make a new secret?' : 'Remove this endpoint?',
        staff,
        { endpoint, action, rotate },
        'webhooks',
      ),
    );
  }

  @Post(':id/rotate')
  @AdminOnly()
  async rotate(@Staff() staff: StaffCaller, @Param('id') id: string, @Res() res: Response) {
    const made = await this.endpoints.rotateSecret(staff.clinicId, id, this.actor(staff));
    sendPage(res, await this.render(staff, { secret: { ...made, verb: 'rotated' } }));
  }

  @Post(':id/remove')
  @AdminOnly()
  async remove(@Staff() staff: StaffCaller, @Param('id') id: string, @Res() res: Response) {
    await this.endpoints.remove(staff.clinicId, id, this.actor(staff));
    redirectAfterPost(res, '/clinic/webhooks?done=removed');
  }

  private async render(
    staff: StaffCaller,
    opts: {
      notice?: string | null;
      query?: Record<string, unknown>;
      secret?: { endpoint: EndpointView; secret: string; verb: 'added' | 'rotated' };
    },
  ): Promise<string> {
    const at = (d: Date | null) => (d ? this.dashboard.local(d, staff.clinicTimezone) : null);
    const [endpoints, log] = await Promise.all([
      this.endpoints.list(staff.clinicId),
      this.endpoints.log(staff.clinicId, opts.query ?? {}),
    ]);
    return this.pages.render(
      'webhooks',
      'Webhooks',
      staff,
      {
        notice: opts.notice ?? null,
        secret: opts.secret ?? null,
        endpoints: endpoints.map((e) => ({ ...e, added: at(e.createdAt) })),
        full: endpoints.length >= 5,
        events: WEBHOOK_EVENTS,
        log: log.rows.map((r) => ({
          ...r,
          when: at(r.createdAt),
          next: r.status === 'pending' ? at(r.nextAttemptAt) : null,
          statusWords: STATUS_WORDS[r.status] ?? r.status,
          failed: r.status === 'failed',
          result: r.responseStatus
            ? `HTTP ${r.responseStatus}${r.lastError && !r.lastError.startsWith('HTTP') ? ` · ${r.lastError}` : ''}`
            : (r.lastError ?? ''),
        })),
        filter: log.status,
        statuses: Object.entries(STATUS_WORDS).map(([value, label]) => ({
          value,
          label,
          selected: value === log.status,
        })),
        nextBefore: log.nextBefore,
      },
      'webhooks',
    );
  }

  private actor(staff: StaffCaller) {
    return { kind: 'staff' as const, staffUserId: staff.staffUserId };
  }
}
