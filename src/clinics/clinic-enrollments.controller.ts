import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrors, ApiZodBody, ApiZodQuery, ZodPipe } from '../common/index.js';
import { updateEnrollmentSchema, type UpdateEnrollmentInput } from '../enrollments/index.js';
import type { ClinicCaller } from './api-keys.service.js';
import {
  clinicEnrollmentSchema,
  listEnrollmentsSchema,
  type ClinicEnrollmentInput,
  type ListEnrollmentsQuery,
} from './clinic.dto.js';
import { ClinicEnrollmentsService } from './clinic-enrollments.service.js';
import { Caller, ClinicKeyGuard, RequireScope } from './clinic-key.guard.js';
import { IdempotencyInterceptor } from './idempotency.interceptor.js';
import {
  ClinicEnrollmentDetailDto,
  ClinicEnrollmentDto,
  ClinicEnrollmentPageDto,
} from './clinic.openapi.js';

const ID = ApiParam({
  name: 'id',
  format: 'uuid',
  description:
    'Another clinic’s enrolment, or a malformed id, answers 404 like one that does not exist',
});
const NOT_FOUND = {
  status: 404,
  message: 'enrollment 7d0e3b52-4f8a-4c1e-9a61-2b7f0c9d1e34 not found',
} as const;
/** What Idempotency-Key adds to a POST's answers. */
const IDEMPOTENCY_ERRORS = [
  {
    status: 400,
    message: 'Idempotency-Key: must be 1-255 printable ASCII characters, such as a UUID',
  },
  {
    status: 409,
    message: 'Idempotency-Key: a request with this key is still being processed; retry in a moment',
  },
  {
    status: 422,
    message:
      'Idempotency-Key: this key was used with a different request; use a new key for a new request',
  },
] as const;

const IDEMPOTENCY_HEADER = {
  name: 'Idempotency-Key',
  required: false,
  description:
    'Any unique string (a UUID). The same key with the same body replays the first answer for 24 h; ' +
    'with another body: 422; while the first request runs: 409.',
};

/** The clinic API: a clinic's own patients, with its API key. */
@ApiTags('clinic')
@ApiBearerAuth('clinicKey')
@ApiErrors(
  { status: 401, message: 'Authorization: the API key was revoked' },
  { status: 403, message: 'Authorization: this API key lacks the scope enrollments:write' },
)
@UseGuards(ClinicKeyGuard)
@UseInterceptors(IdempotencyInterceptor)
@Controller('api/v1/enrollments')
export class ClinicEnrollmentsController {
  constructor(private readonly enrollments: ClinicEnrollmentsService) {}

  @Post()
  @RequireScope('enrollments:write')
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiOperation({
    summary: 'Enrol a patient, with the clinic’s record of their consent',
    description:
      'With the clinic’s consent mode "confirm" the enrolment is pending until the patient confirms ' +
      'once (YES by text, or the email button); with "attested" it starts at once.',
  })
  @ApiZodBody(clinicEnrollmentSchema, {
    examples: {
      sms: {
        summary: 'By SMS, after a visit',
        value: {
          campaign: 'upper-back-relief',
          channel: 'sms',
          phone: '+14155550123',
          name: 'Pat Doe',
          externalId: 'visit-881',
          consent: {
            method: 'verbal',
            obtainedAt: '2026-11-30T14:05:00Z',
            collectedBy: 'Front desk (Sam)',
          },
        },
      },
    },
  })
  @ApiCreatedResponse({ type: ClinicEnrollmentDetailDto, description: 'Enrolled (or replayed)' })
  @ApiErrors(
    { status: 400, message: 'consent.collectedBy: is required' },
    {
      status: 409,
      message: 'campaign: this patient is already enrolled in "upper-back-relief" by this clinic',
    },
    IDEMPOTENCY_ERRORS[2],
  )
  create(
    @Caller() caller: ClinicCaller,
    @Body(new ZodPipe(clinicEnrollmentSchema)) body: ClinicEnrollmentInput,
  ) {
    return this.enrollments.enrol(caller, body);
  }

  @Get()
  @RequireScope('enrollments:read')
  @ApiOperation({ summary: 'The clinic’s enrolments, newest first, a page at a time' })
  @ApiZodQuery(listEnrollmentsSchema, {
    cursor: 'nextCursor of the previous page',
    limit: '1-200, default 50',
  })
  @ApiOkResponse({ type: ClinicEnrollmentPageDto })
  @ApiErrors({
    status: 400,
    message: 'cursor: is not a cursor this API gave; start again without one',
  })
  list(
    @Caller() caller: ClinicCaller,
    @Query(new ZodPipe(listEnrollmentsSchema)) query: ListEnrollmentsQuery,
  ) {
    return this.enrollments.list(caller, query);
  }

  @Get(':id')
  @RequireScope('enrollments:read')
  @ApiOperation({ summary: 'One enrolment with its deliveries, pain scores and consent events' })
  @ID
  @ApiOkResponse({ type: ClinicEnrollmentDetailDto })
  @ApiErrors(NOT_FOUND)
  get(@Caller() caller: ClinicCaller, @Param('id') id: string) {
    return this.enrollments.get(caller, id);
  }

  @Patch(':id')
  @RequireScope('enrollments:write')
  @ApiOperation({ summary: 'Change the send time or time zone' })
  @ID
  @ApiZodBody(updateEnrollmentSchema, { examples: { time: { value: { sendTime: '07:30' } } } })
  @ApiOkResponse({ type: ClinicEnrollmentDto })
  @ApiErrors(
    { status: 400, message: 'sendTime: must be a 24-hour time HH:MM such as 08:00' },
    NOT_FOUND,
    { status: 409, message: 'status: cannot change an enrolment that is completed' },
  )
  update(
    @Caller() caller: ClinicCaller,
    @Param('id') id: string,
    @Body(new ZodPipe(updateEnrollmentSchema)) body: UpdateEnrollmentInput,
  ) {
    return this.enrollments.reschedule(caller, id, body);
  }

  @Post(':id/pause')
  @HttpCode(200)
  @RequireScope('enrollments:write')
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiOperation({ summary: 'Pause: nothing more is sent until resumed' })
  @ID
  @ApiOkResponse({ type: ClinicEnrollmentDto })
  @ApiErrors(NOT_FOUND, ...IDEMPOTENCY_ERRORS)
  pause(@Caller() caller: ClinicCaller, @Param('id') id: string) {
    return this.enrollments.pause(caller, id);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @RequireScope('enrollments:write')
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiOperation({ summary: 'Resume at the step where it paused' })
  @ID
  @ApiOkResponse({ type: ClinicEnrollmentDto })
  @ApiErrors(NOT_FOUND, ...IDEMPOTENCY_ERRORS)
  resume(@Caller() caller: ClinicCaller, @Param('id') id: string) {
    return this.enrollments.resume(caller, id);
  }

  @Delete(':id')
  @HttpCode(200)
  @RequireScope('enrollments:write')
  @ApiOperation({
    summary: 'Cancel: the patient gets nothing more from this programme (safe to repeat)',
  })
  @ID
  @ApiOkResponse({ type: ClinicEnrollmentDto })
  @ApiErrors(NOT_FOUND)
  cancel(@Caller() caller: ClinicCaller, @Param('id') id: string) {
    return this.enrollments.cancel(caller, id);
  }
}
