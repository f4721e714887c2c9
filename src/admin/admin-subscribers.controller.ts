import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ZodPipe, invalid, notFound } from '../common/index.js';
import { SafetyService } from '../enrollments/index.js';
import { ConsentService } from '../consent/index.js';
import { SubscribersRepository, normaliseEmail, normalisePhone } from '../subscribers/index.js';
import { AdminTokenGuard } from './admin-token.guard.js';

const liftSchema = z.strictObject({
  by: z.enum(['clinic', 'operator'], { message: 'must be "clinic" or "operator"' }),
  note: z.string().trim().max(500, 'must be at most 500 characters').optional(),
});
type LiftInput = z.output<typeof liftSchema>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('api/v1/admin/subscribers')
export class AdminSubscribersController {
  constructor(
    private readonly subscribers: SubscribersRepository,
    private readonly consent: ConsentService,
    private readonly safety: SafetyService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Find a subscriber by email or phone' })
  @ApiQuery({ name: 'email', required: false })
  @ApiQuery({ name: 'phone', required: false })
  async find(@Query('email') email?: unknown, @Query('phone') phone?: unknown) {
    if (typeof email === 'string') {
      const e = normaliseEmail(email);
      if (!e) throw invalid('email', 'is not a valid email address');
      const s = await this.subscribers.findBy('email', e);
      if (!s) throw notFound('no subscriber with that email');
      return { id: s.id };
    }
    if (typeof phone === 'string') {
      const p = normalisePhone(phone);
      if (!p) throw invalid('phone', 'is not a valid mobile number in international format');
      const s = await this.subscribers.findBy('phone', p);
      if (!s) throw notFound('no subscriber with that phone');
      return { id: s.id };
    }
    throw invalid('email', 'give email or phone');
  }

  @Get(':id/consent')
  @ApiOperation({ summary: 'Export the consent evidence of one person as JSON' })
  consentEvidence(@Param('id') id: string) {
    if (!UUID.test(id)) throw notFound('subscriber (malformed id) not found');
    return this.consent.evidence(id);
  }

  @Get(':id/safety')
  @ApiOperation({
    summary: 'The safety hold of one person, and every warning sign and lift on record',
  })
  safetyStatus(@Param('id') id: string) {
    if (!UUID.test(id)) throw notFound('subscriber (malformed id) not found');
    return this.safety.status(id);
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
  async liftHold(@Param('id') id: string, @Body(new ZodPipe(liftSchema)) body: LiftInput) {
    if (!UUID.test(id)) throw notFound('subscriber (malformed id) not found');
    const done = await this.safety.lift(id, body.by, body.note ?? null);
    return { ...done, safety: await this.safety.status(id) };
  }
}
