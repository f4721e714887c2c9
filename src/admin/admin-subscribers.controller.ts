import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ZodPipe } from '../common/index.js';
import { AdminSubscribersService } from './admin-subscribers.service.js';
import { AdminTokenGuard } from './admin-token.guard.js';

const liftSchema = z.strictObject({
  by: z.enum(['clinic', 'operator'], { message: 'must be "clinic" or "operator"' }),
  note: z.string().trim().max(500, 'must be at most 500 characters').optional(),
});
type LiftInput = z.output<typeof liftSchema>;

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('api/v1/admin/subscribers')
export class AdminSubscribersController {
  constructor(private readonly people: AdminSubscribersService) {}

  @Get()
  @ApiOperation({ summary: 'Find a subscriber by email or phone' })
  @ApiQuery({ name: 'email', required: false })
  @ApiQuery({ name: 'phone', required: false })
  find(@Query('email') email?: unknown, @Query('phone') phone?: unknown) {
    return this.people.find({ email, phone });
  }

  @Get(':id/consent')
  @ApiOperation({ summary: 'Export the consent evidence of one person as JSON' })
  consentEvidence(@Param('id') id: string) {
    return this.people.consentEvidence(id);
  }

  @Get(':id/safety')
  @ApiOperation({
    summary: 'The safety hold of one person, and every warning sign and lift on record',
  })
  safetyStatus(@Param('id') id: string) {
    return this.people.safetyStatus(id);
  }

  @Post(':id/safety-hold/lift')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Lift a safety hold after a clinician has been in touch: resumes every tip it paused, on every channel',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['by'],
      properties: {
        by: { type: 'string', enum: ['clinic', 'operator'] },
        note: { type: 'string', maxLength: 500, example: 'Seen by Dr Lee on 2 March; cleared.' },
      },
    },
  })
  liftHold(@Param('id') id: string, @Body(new ZodPipe(liftSchema)) body: LiftInput) {
    return this.people.liftHold(id, body.by, body.note ?? null);
  }
}
