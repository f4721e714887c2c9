import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { z } from 'zod';
import { ApiErrors, ApiZodBody, ZodPipe } from '../common/index.js';
import { DataRightsService, ErasureDto, PersonExportDto } from '../data-rights/index.js';
import { ConsentExportDto, HoldLiftedDto, SafetyStatusDto, SubscriberRefDto } from './admin.dto.js';
import { AdminSubscribersService } from './admin-subscribers.service.js';
import { AdminTokenGuard } from './admin-token.guard.js';

const liftSchema = z.strictObject({
  by: z.enum(['clinic', 'operator'], { message: 'must be "clinic" or "operator"' }),
  note: z.string().trim().max(500, 'must be at most 500 characters').optional(),
});
type LiftInput = z.output<typeof liftSchema>;

const ID = ApiParam({ name: 'id', format: 'uuid', description: 'a malformed id answers 404' });
const NOT_FOUND = {
  status: 404,
  message: 'subscriber 1b4e28ba-2fa1-11d2-883f-0016d3cca427 not found',
} as const;

@ApiTags('admin')
@ApiBearerAuth('admin')
@ApiErrors({ status: 401, message: 'Authorization: Bearer <ADMIN_TOKEN> is missing or wrong' }, 503)
@UseGuards(AdminTokenGuard)
@Controller('api/v1/admin/subscribers')
export class AdminSubscribersController {
  constructor(
    private readonly people: AdminSubscribersService,
    private readonly rights: DataRightsService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Find a subscriber by email or phone' })
  @ApiQuery({ name: 'email', required: false, description: 'looked up first when both are given' })
  @ApiQuery({ name: 'phone', required: false, description: 'international format, +14155550123' })
  @ApiOkResponse({ type: SubscriberRefDto })
  @ApiErrors(
    { status: 400, message: 'email: give email or phone' },
    { status: 404, message: 'no subscriber with that email' },
  )
  find(@Query('email') email?: unknown, @Query('phone') phone?: unknown) {
    return this.people.find({ email, phone });
  }

  @Get(':id/consent')
  @ApiOperation({ summary: 'Export the consent evidence of one person as JSON' })
  @ID
  @ApiOkResponse({ type: ConsentExportDto })
  @ApiErrors(NOT_FOUND)
  consentEvidence(@Param('id') id: string) {
    return this.people.consentEvidence(id);
  }

  @Get(':id/export')
  @ApiOperation({
    summary: 'Export everything held about one person as JSON (GDPR access)',
    description:
      'Every subscriber row sharing the person id: enrolments (with clinic) and their deliveries, ' +
      'consent events, suppressions, replies, pain scores, safety hold and events, triage items ' +
      'and audit rows. Each clinic of the person gets an audit row saying the operator exported.',
  })
  @ID
  @ApiOkResponse({ type: PersonExportDto })
  @ApiErrors(NOT_FOUND)
  exportPerson(@Param('id') id: string) {
    return this.rights.exportPerson(id);
  }

  @Post(':id/erase')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Erase one person (GDPR erasure), keeping their addresses suppressed',
    description:
      'Stops every live enrolment, then deletes the person (every subscriber row sharing the ' +
      'person id) and everything about them; audit rows stay without the person. Their email ' +
      'addresses and numbers stay on the suppression list (reason "erased"), so nobody but ' +
      'the person can have them messaged again. See docs/data-rights.md.',
  })
  @ID
  @ApiOkResponse({ type: ErasureDto })
  @ApiErrors(NOT_FOUND)
  erase(@Param('id') id: string) {
    return this.rights.erasePerson(id);
  }

  @Get(':id/safety')
  @ApiOperation({
    summary: 'The safety hold of one person, and every warning sign and lift on record',
  })
  @ID
  @ApiOkResponse({ type: SafetyStatusDto })
  @ApiErrors(NOT_FOUND)
  safetyStatus(@Param('id') id: string) {
    return this.people.safetyStatus(id);
  }

  @Post(':id/safety-hold/lift')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Lift a safety hold after a clinician has been in touch: resumes every tip it paused, on every channel',
  })
  @ID
  @ApiZodBody(liftSchema, {
    examples: {
      clinic: {
        summary: 'The clinic has been in touch',
        value: { by: 'clinic', note: 'Seen by Dr Lee on 2 March; cleared.' },
      },
    },
  })
  @ApiOkResponse({ type: HoldLiftedDto, description: 'What it did, and the hold as it now stands' })
  @ApiErrors({ status: 400, message: 'by: must be "clinic" or "operator"' }, NOT_FOUND)
  liftHold(@Param('id') id: string, @Body(new ZodPipe(liftSchema)) body: LiftInput) {
    return this.people.liftHold(id, body.by, body.note ?? null);
  }
}
