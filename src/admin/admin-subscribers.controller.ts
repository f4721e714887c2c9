import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { invalid, notFound } from '../common/errors.js';
import { ConsentService } from '../signup/consent.service.js';
import { SubscribersRepository, normaliseEmail, normalisePhone } from '../subscribers/index.js';
import { AdminTokenGuard } from './admin-token.guard.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('api/v1/admin/subscribers')
export class AdminSubscribersController {
  constructor(
    private readonly subscribers: SubscribersRepository,
    private readonly consent: ConsentService,
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
}
