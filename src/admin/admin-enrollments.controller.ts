import { Body, Controller, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodPipe } from '../common/index.js';
import {
  createEnrollmentSchema,
  EnrollmentsService,
  updateEnrollmentSchema,
  type CreateEnrollmentInput,
  type UpdateEnrollmentInput,
} from '../enrollments/index.js';
import { AdminTokenGuard } from './admin-token.guard.js';

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('api/v1/admin/enrollments')
export class AdminEnrollmentsController {
  constructor(private readonly enrollments: EnrollmentsService) {}

  @Post()
  @ApiOperation({
    summary: 'Enrol a person in a campaign (operator use, until the clinic API exists)',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['campaign', 'channel', 'timezone'],
      properties: {
        campaign: { type: 'string', example: 'upper-back-relief' },
        channel: { type: 'string', enum: ['email', 'sms'] },
        email: { type: 'string', example: 'pat@example.com' },
        phone: { type: 'string', example: '+14155550123' },
        country: { type: 'string', example: 'US', description: 'for national phone numbers' },
        name: { type: 'string', example: 'Pat Doe' },
        timezone: { type: 'string', example: 'America/New_York' },
        sendTime: { type: 'string', example: '08:00', description: 'local HH:MM, default 08:00' },
      },
    },
  })
  create(@Body(new ZodPipe(createEnrollmentSchema)) body: CreateEnrollmentInput) {
    return this.enrollments.enroll(body, 'admin');
  }

  @Get(':id')
  @ApiOperation({ summary: 'An enrolment with its deliveries' })
  get(@Param('id') id: string) {
    return this.enrollments.get(id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change send time or time zone' })
  update(
    @Param('id') id: string,
    @Body(new ZodPipe(updateEnrollmentSchema)) body: UpdateEnrollmentInput,
  ) {
    return this.enrollments.reschedule(id, body);
  }

  @Post(':id/pause')
  @HttpCode(200)
  pause(@Param('id') id: string) {
    return this.enrollments.pause(id);
  }

  @Post(':id/resume')
  @HttpCode(200)
  resume(@Param('id') id: string) {
    return this.enrollments.resume(id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  cancel(@Param('id') id: string) {
    return this.enrollments.cancel(id);
  }
}
