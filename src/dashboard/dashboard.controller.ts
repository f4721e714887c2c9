import {
  Body,
  Controller,
  Get,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import {
  AdminOnly,
  CsrfCheckedInHandler,
  Staff,
  StaffAuthService,
  StaffSessionGuard,
  type StaffCaller,
} from '../clinics/index.js';
import { invalid } from '../common/index.js';
import { DataRightsService } from '../data-rights/index.js';
import type { StaffRole } from '../database/index.js';
import { TriageService } from '../outcomes/index.js';
import { DashboardImports } from './dashboard-imports.js';
import { DashboardPages } from './dashboard-pages.js';
import {
  DashboardErrorFilter,
  pageHeaders,
  redirectAfterPost,
  sendPage,
} from './dashboard.filter.js';
import { DashboardService } from './dashboard.service.js';

const DONE: Record<string, string> = {
  pause: 'Paused. No more tips go out until someone resumes them.',
  resume: 'Resumed. The next tip goes out at the patient’s usual time.',
  cancel: 'Stopped. This patient will get no more tips from this programme.',
  lift: 'The safety hold is lifted. Tips start again at the patient’s usual time.',
  resend: 'The message is queued to go again. Its new status shows below within a minute.',
};

const ACTION_WORDS: Record<
  string,
  { title: string; explain: string; button: string; danger: boolean }
> = {
  pause: {
    title: 'Pause tips for this patient?',
    explain:
      'No tips go out while paused. You can resume at any time; they pick up where they left off.',
    button: 'Yes, pause',
    danger: false,
  },
  resume: {
    title: 'Resume tips for this patient?',
    explain: 'Tips start again at the patient’s usual send time.',
    button: 'Yes, resume',
    danger: false,
  },
  cancel: {
    title: 'Stop this patient’s programme?',
    explain:
      'This cannot be undone: no more tips will go out. To restart, the patient has to be enrolled again.',
    button: 'Yes, stop the programme',
    danger: true,
  },
};

/**
 * The clinic's dashboard: server-rendered pages that work without JavaScript. Every route
 * needs a staff session (StaffSessionGuard), every POST a CSRF token, and every action asks
 * first on a page of its own.
 */
@ApiExcludeController()
@UseGuards(StaffSessionGuard)
@UseFilters(DashboardErrorFilter)
@Controller('clinic')
export class DashboardController {
  constructor(
    private readonly dashboard: DashboardService,
    private readonly triage: TriageService,
    private readonly auth: StaffAuthService,
    private readonly pages: DashboardPages,
    private readonly imports: DashboardImports,
    private readonly dataRights: DataRightsService,
  ) {}

  @Get()
  async overview(@Staff() staff: StaffCaller, @Res() res: Response) {
    const figures = await this.dashboard.overview(staff);
    sendPage(res, this.pages.render('overview', 'Overview', staff, { figures }, 'overview'));
  }

  @Get('patients')
  async patients(
    @Staff() staff: StaffCaller,
    @Query() query: Record<string, unknown>,
    @Res() res: Response,
  ) {
    const list = await this.dashboard.patients(staff, query);
    const notice =
      query.done === 'erased'
        ? 'Erased. Their personal data is deleted; their addresses are kept on the do-not-contact list so they are never messaged again.'
        : query.done === 'erased-here'
          ? "Erased from this clinic. They are also in another programme, so only this clinic's records of them were deleted."
          : null;
    sendPage(
      res,
      this.pages.render('patients', 'Patients', staff, { ...list, notice }, 'patients'),
    );
  }

  @Get('patients/:id')
  async patient(
    @Staff() staff: StaffCaller,
    @Param('id') id: string,
    @Query('done') done: unknown,
    @Res() res: Response,
  ) {
    const { p, outcomes } = await this.dashboard.patient(staff, id);
    const notice = typeof done === 'string' ? (DONE[done] ?? null) : null;
    sendPage(
      res,
      this.pages.render('patient', p.name ?? 'Patient', staff, { p, outcomes, notice }, 'patients'),
    );
  }

  @Get('patients/:id/deliveries/:deliveryId/resend')
  async confirmResend(
    @Staff() staff: StaffCaller,
    @Param('id') id: string,
    @Param('deliveryId') deliveryId: string,
    @Res() res: Response,
  ) {
    const c = await this.dashboard.confirmResend(staff, id, deliveryId);
    sendPage(res, this.pages.render('confirm-resend', 'Send again?', staff, c, 'patients'));
  }

  @Post('patients/:id/deliveries/:deliveryId/resend')
  async resend(
    @Staff() staff: StaffCaller,
    @Param('id') id: string,
    @Param('deliveryId') deliveryId: string,
    @Res() res: Response,
  ) {
    await this.dashboard.resend(staff, id, deliveryId);
    redirectAfterPost(res, `/clinic/patients/${id}?done=resend`);
  }

  @Get('patients/:id/export.json')
  @AdminOnly()
  async exportPatient(@Staff() staff: StaffCaller, @Param('id') id: string, @Res() res: Response) {
    const data = await this.dataRights.exportForClinic(staff.clinicId, id, staff.staffUserId);
    pageHeaders(res);
    res.setHeader('Content-Disposition', `attachment; filename="patient-${id}.json"`);
    res
      .status(200)
      .type('application/json')
      .send(JSON.stringify(data, null, 2));
  }

  @Get('patients/:id/erase')
  @AdminOnly()
  async confirmErase(@Staff() staff: StaffCaller, @Param('id') id: string, @Res() res: Response) {
    const p = await this.dashboard.confirmAction(staff, id, 'cancel');
    sendPage(
      res,
      this.pages.render(
        'confirm-erase',
        'Erase this patient?',
        staff,
        { patient: p.patient },
        'patients',
      ),
    );
  }

  @Post('patients/:id/erase')
  @AdminOnly()
  async erase(@Staff() staff: StaffCaller, @Param('id') id: string, @Res() res: Response) {
    const r = await this.dataRights.eraseForClinic(staff.clinicId, id, staff.staffUserId);
    redirectAfterPost(
      res,
      `/clinic/patients?done=${r.scope === 'person' ? 'erased' : 'erased-here'}`,
    );
  }

  @Get('patients/:id/lift-hold')
  async confirmLift(@Staff() staff: StaffCaller, @Param('id') id: string, @Res() res: Response) {
    const { patient, open } = await this.dashboard.heldPatient(staff, id);
    sendPage(
      res,
      this.pages.render(
        'confirm-lift',
        'Lift the safety hold?',
        staff,
        { patient, open },
        'patients',
      ),
    );
  }

  @Post('patients/:id/lift-hold')
  async lift(
    @Staff() staff: StaffCaller,
    @Param('id') id: string,
    @Body() body: Record<string, unknown>,
    @Res() res: Response,
  ) {
    await this.dashboard.liftHold(staff, id, body.note);
    redirectAfterPost(res, `/clinic/patients/${id}?done=lift`);
  }

  @Get('patients/:id/:action')
  async confirmAction(
    @Staff() staff: StaffCaller,
    @Param('id') id: string,
    @Param('action') action: string,
    @Res() res: Response,
  ) {
    const c = await this.dashboard.confirmAction(staff, id, action);
    const words = ACTION_WORDS[c.action]!;
    sendPage(
      res,
      this.pages.render('confirm-action', words.title, staff, { ...c, words }, 'patients'),
    );
  }

  @Post('patients/:id/:action')
  async act(
    @Staff() staff: StaffCaller,
    @Param('id') id: string,
    @Param('action') action: string,
    @Res() res: Response,
  ) {
    await this.dashboard.act(staff, id, action);
    redirectAfterPost(res, `/clinic/patients/${id}?done=${action}`);
  }

  @Get('triage')
  async triageQueue(@Staff() staff: StaffCaller, @Res() res: Response) {
    const { open, done } = await this.triage.list(staff.clinicId);
    const at = (d: Date) => this.dashboard.local(d, staff.clinicTimezone);
    sendPage(
      res,
      this.pages.render(
        'triage',
        'Triage',
        staff,
        {
          open: open.map((t) => ({ ...t, when: at(t.createdAt) })),
          done: done.map((t) => ({ ...t, when: at(t.createdAt), ackWhen: at(t.acknowledgedAt!) })),
        },
        'triage',
      ),
    );
  }

  @Post('triage/:id/acknowledge')
  async acknowledge(
    @Staff() staff: StaffCaller,
    @Param('id') id: string,
    @Body() body: Record<string, unknown>,
    @Res() res: Response,
  ) {
    await this.triage.acknowledge(staff.clinicId, id, staff.staffUserId, body.note);
    redirectAfterPost(res, '/clinic/triage');
  }

  @Get('imports')
  async importsPage(@Staff() staff: StaffCaller, @Res() res: Response) {
    const list = await this.imports.list(staff);
    sendPage(
      res,
      this.pages.render(
        'imports',
        'Import patients',
        staff,
        { list, columns: this.imports.columns },
        'imports',
      ),
    );
  }

  @Post('imports')
  @CsrfCheckedInHandler()
  async upload(@Staff() staff: StaffCaller, @Req() req: Request, @Res() res: Response) {
    const started = await this.imports.upload(staff, req);
    redirectAfterPost(res, `/clinic/imports/${started.id}`);
  }

  @Get('imports/:id')
  async importProgress(@Staff() staff: StaffCaller, @Param('id') id: string, @Res() res: Response) {
    const job = await this.imports.progress(staff, id);
    // Without JavaScript, the page reloads itself every 2 seconds until the import ends.
    if (!job.done) res.setHeader('Refresh', '2');
    sendPage(res, this.pages.render('import', 'Import progress', staff, { job }, 'imports'));
  }

  @Get('imports/:id/errors.csv')
  async importErrors(@Staff() staff: StaffCaller, @Param('id') id: string, @Res() res: Response) {
    const csv = await this.imports.errorsCsv(staff, id);
    pageHeaders(res);
    res.status(200).type('text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="import-${id}-errors.csv"`);
    csv.pipe(res);
  }

  @Get('audit')
  @AdminOnly()
  async auditLog(
    @Staff() staff: StaffCaller,
    @Query('before') before: unknown,
    @Res() res: Response,
  ) {
    const log = await this.dashboard.auditLog(staff, before);
    sendPage(res, this.pages.render('audit', 'Audit log', staff, log, 'audit'));
  }

  @Get('staff')
  @AdminOnly()
  async staffPage(@Staff() staff: StaffCaller, @Query('done') done: unknown, @Res() res: Response) {
    const members = await this.dashboard.staffList(staff);
    sendPage(
      res,
      this.pages.render(
        'staff',
        'Staff',
        staff,
        {
          members: members.map((m) => ({
            ...m,
            isMe: m.id === staff.staffUserId,
            isAdmin: m.role === 'admin',
          })),
          notice:
            done === 'invited'
              ? 'Invitation sent. The link in it works for 15 minutes; they can ask for a new one on the sign-in page.'
              : done === 'removed'
                ? 'Removed. Their sessions have ended.'
                : null,
        },
        'staff',
      ),
    );
  }

  @Post('staff')
  @AdminOnly()
  async invite(
    @Staff() staff: StaffCaller,
    @Body() body: Record<string, unknown>,
    @Res() res: Response,
  ) {
    const role = body.role === 'admin' ? 'admin' : body.role === 'staff' ? 'staff' : undefined;
    if (!role) throw invalid('role', 'must be staff or admin');
    await this.auth.invite(
      staff.clinicId,
      { email: String(body.email ?? ''), name: String(body.name ?? ''), role: role as StaffRole },
      { kind: 'staff', staffUserId: staff.staffUserId },
    );
    redirectAfterPost(res, '/clinic/staff?done=invited');
  }

  @Post('staff/:id/remove')
  @AdminOnly()
  async remove(@Staff() staff: StaffCaller, @Param('id') id: string, @Res() res: Response) {
    if (id === staff.staffUserId)
      throw invalid('staff', 'you cannot remove yourself; ask another admin');
    await this.auth.remove(staff.clinicId, id, { kind: 'staff', staffUserId: staff.staffUserId });
    redirectAfterPost(res, '/clinic/staff?done=removed');
  }
}
