import { Body, Controller, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrors, ApiZodBody, ZodPipe } from '../common/index.js';
import {
  createEnrollmentSchema,
  EnrollmentsService,
  updateEnrollmentSchema,
  type CreateEnrollmentInput,
  type UpdateEnrollmentInput,
} from '../enrollments/index.js';
import { EnrollmentDetailDto, EnrollmentSummaryDto } from './admin.dto.js';
import { AdminTokenGuard } from './admin-token.guard.js';

const ID = ApiParam({ name: 'id', format: 'uuid', description: 'a malformed id answers 404' });
const NOT_FOUND = { status: 404, message: 'enrollment (malformed id) not found' } as const;

@ApiTags('admin')
@ApiBearerAuth('admin')
@ApiErrors({ status: 401, message: 'Authorization: Bearer <ADMIN_TOKEN> is missing or wrong' }, 503)
@UseGuards(AdminTokenGuard)
@Controller('api/v1/admin/enrollments')
export class AdminEnrollmentsController {
  constructor(private readonly enrollments: EnrollmentsService) {}

  @Post()
  @ApiOperation({
    summary: 'Enrol a person in a campaign (operator use, until the clinic API exists)',
  })
  @ApiZodBody(createEnrollmentSchema, {
    description:
      'The address of the chosen channel is required (email, or phone in international ' +
      'format or with country); sendTime is local HH:MM, default 08:00.',
    examples: {
      sms: {
        summary: 'By SMS',
        value: {
          campaign: 'upper-back-relief',
          channel: 'sms',
          phone: '+14155550123',
          name: 'Sam',
          timezone: 'America/New_York',
          sendTime: '08:00',
        },
      },
      email: {
        summary: 'By email',
        value: {
          campaign: 'upper-back-relief',
          channel: 'email',
          email: 'pat@example.com',
          timezone: 'Europe/London',
        },
      },
    },
  })
  @ApiCreatedResponse({ type: EnrollmentSummaryDto, description: 'Enrolled' })
  @ApiErrors(
    { status: 400, message: 'timezone: must be an IANA time zone such as Europe/London' },
    { status: 409, message: 'campaign: this person is already enrolled in "upper-back-relief"' },
  )
  create(@Body(new ZodPipe(createEnrollmentSchema)) body: CreateEnrollmentInput) {
    return this.enrollments.enroll(body, 'admin');
  }

  @Get(':id')
  @ApiOperation({ summary: 'An enrolment with its deliveries' })
  @ID
  @ApiOkResponse({ type: EnrollmentDetailDto })
  @ApiErrors(NOT_FOUND)
  get(@Param('id') id: string) {
    return this.enrollments.get(id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change send time or time zone' })
  @ID
  @ApiZodBody(updateEnrollmentSchema, {
    description: 'Give timezone or sendTime (or both)',
    adjust: (s) => ({ ...s, minProperties: 1 }),
    examples: { later: { summary: 'Later in the day', value: { sendTime: '18:30' } } },
  })
  @ApiOkResponse({ type: EnrollmentSummaryDto })
  @ApiErrors(
    { status: 400, message: 'sendTime: must be a 24-hour time HH:MM such as 08:00' },
    NOT_FOUND,
    { status: 409, message: 'status: cannot change an enrolment that is cancelled' },
  )
  update(
    @Param('id') id: string,
    @Body(new ZodPipe(updateEnrollmentSchema)) body: UpdateEnrollmentInput,
  ) {
    return this.enrollments.reschedule(id, body);
  }

  @Post(':id/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause until resumed' })
  @ID
  @ApiOkResponse({ type: EnrollmentSummaryDto })
  @ApiErrors(NOT_FOUND, {
    status: 409,
    message: 'status: cannot pause an enrolment that is cancelled',
  })
  pause(@Param('id') id: string) {
    return this.enrollments.pause(id);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Resume a paused enrolment (an active one answers as it is); not one held for a warning sign',
  })
  @ID
  @ApiOkResponse({ type: EnrollmentSummaryDto })
  @ApiErrors(NOT_FOUND, {
    status: 409,
    description: 'Cancelled, completed or still pending; or held for a warning sign',
    message: 'status: cannot resume an enrolment that is cancelled',
  })
  resume(@Param('id') id: string) {
    return this.enrollments.resume(id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop for good: nothing more is sent (safe to repeat)' })
  @ID
  @ApiOkResponse({ type: EnrollmentSummaryDto })
  @ApiErrors(NOT_FOUND)
  cancel(@Param('id') id: string) {
    return this.enrollments.cancel(id);
  }
}
