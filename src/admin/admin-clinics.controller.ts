import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import {
  ApiKeyDto,
  ClinicDto,
  IssuedApiKeyDto,
  RotatedApiKeyDto,
  ApiKeysService,
  ClinicsService,
  InvitedStaffDto,
  StaffAuthService,
  StaffDto,
  inviteStaffSchema,
  type InviteStaffInput,
  createClinicSchema,
  createKeySchema,
  rotateKeySchema,
  updateClinicSchema,
  type CreateClinicInput,
  type CreateKeyInput,
  type UpdateClinicInput,
} from '../clinics/index.js';
import { ApiErrors, ApiZodBody, ZodPipe } from '../common/index.js';

const ID = ApiParam({
  name: 'id',
  format: 'uuid',
  description: 'the clinic; a malformed id answers 404',
});
const KEY_ID = ApiParam({ name: 'keyId', description: 'the key id (the part after sdk_live_)' });
const NO_CLINIC = {
  status: 404,
  message: 'clinic 7d0e3b52-4f8a-4c1e-9a61-2b7f0c9d1e34 not found',
} as const;
const NO_KEY = {
  status: 404,
  message: 'API key 3f9a1c0b7d2e4a65 not found for clinic 7d0e3b52-4f8a-4c1e-9a61-2b7f0c9d1e34',
} as const;
const CLINIC_EXAMPLE = {
  name: 'Riverside Chiropractic',
  timezone: 'America/New_York',
  senderName: 'Riverside Chiropractic',
  replyTo: 'desk@riverside.example',
  phone: '+12125550199',
  postalAddress: '12 River St, Springfield, NY 10001',
  bookingUrl: 'https://riverside.example/book',
  chiropractorName: 'Dr. Ana Ruiz',
};
import { AdminTokenGuard } from './admin-token.guard.js';

/** The operator's side of tenancy: clinics and their API keys. */
@ApiTags('admin')
@ApiBearerAuth('admin')
@ApiErrors({ status: 401, message: 'Authorization: Bearer <ADMIN_TOKEN> is missing or wrong' }, 503)
@UseGuards(AdminTokenGuard)
@Controller('api/v1/admin/clinics')
export class AdminClinicsController {
  constructor(
    private readonly clinics: ClinicsService,
    private readonly keys: ApiKeysService,
    private readonly staff: StaffAuthService,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Add a clinic (a tenant)' })
  @ApiZodBody(createClinicSchema, { examples: { clinic: { value: CLINIC_EXAMPLE } } })
  @ApiCreatedResponse({ type: ClinicDto })
  @ApiErrors(
    { status: 400, message: 'replyTo: must be an email address' },
    { status: 409, message: 'slug: "riverside" is taken by another clinic' },
  )
  create(@Body(new ZodPipe(createClinicSchema)) body: CreateClinicInput) {
    return this.clinics.create(body);
  }

  @Get()
  @ApiOperation({ summary: 'Every clinic' })
  @ApiOkResponse({ type: [ClinicDto] })
  list() {
    return this.clinics.list();
  }

  @Get(':id')
  @ApiOperation({ summary: 'One clinic' })
  @ID
  @ApiOkResponse({ type: ClinicDto })
  @ApiErrors(NO_CLINIC)
  get(@Param('id') id: string) {
    return this.clinics.get(id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a clinic’s details, branding or consent mode' })
  @ID
  @ApiZodBody(updateClinicSchema, { examples: { mode: { value: { consentMode: 'attested' } } } })
  @ApiOkResponse({ type: ClinicDto })
  @ApiErrors({ status: 400, message: 'bookingUrl: must be an https:// URL' }, NO_CLINIC)
  update(@Param('id') id: string, @Body(new ZodPipe(updateClinicSchema)) body: UpdateClinicInput) {
    return this.clinics.update(id, body);
  }

  @Post(':id/api-keys')
  @ApiOperation({ summary: 'Issue an API key: the key is shown in this answer only' })
  @ID
  @ApiZodBody(createKeySchema, {
    examples: {
      key: { value: { name: 'Front desk PC', scopes: ['enrollments:write', 'enrollments:read'] } },
    },
  })
  @ApiCreatedResponse({ type: IssuedApiKeyDto })
  @ApiErrors(
    {
      status: 400,
      message: 'scopes.0: must be one of enrollments:write, enrollments:read, import, reports',
    },
    NO_CLINIC,
  )
  issueKey(@Param('id') id: string, @Body(new ZodPipe(createKeySchema)) body: CreateKeyInput) {
    return this.keys.issue(id, body);
  }

  @Get(':id/api-keys')
  @ApiOperation({ summary: 'A clinic’s keys (never the secrets)' })
  @ID
  @ApiOkResponse({ type: [ApiKeyDto] })
  @ApiErrors(NO_CLINIC)
  listKeys(@Param('id') id: string) {
    return this.keys.list(id);
  }

  @Post(':id/api-keys/:keyId/rotate')
  @ApiOperation({
    summary: 'A new key; the old one works for overlapHours more (default 24, 0 to stop it now)',
  })
  @ID
  @KEY_ID
  @ApiZodBody(rotateKeySchema, { examples: { overlap: { value: { overlapHours: 24 } } } })
  @ApiCreatedResponse({ type: RotatedApiKeyDto })
  @ApiErrors({ status: 400, message: 'overlapHours: must be from 0 to 168' }, NO_KEY)
  rotateKey(
    @Param('id') id: string,
    @Param('keyId') keyId: string,
    @Body(new ZodPipe(rotateKeySchema)) body: { overlapHours?: number },
  ) {
    return this.keys.rotate(id, keyId, body.overlapHours);
  }

  @Delete(':id/api-keys/:keyId')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke a key at once (safe to repeat)' })
  @ID
  @KEY_ID
  @ApiOkResponse({ type: ApiKeyDto })
  @ApiErrors(NO_KEY)
  revokeKey(@Param('id') id: string, @Param('keyId') keyId: string) {
    return this.keys.revoke(id, keyId);
  }

  @Post(':id/staff')
  @ApiOperation({
    summary:
      "Invite someone to the clinic's dashboard: they get an email with a sign-in link (again: a fresh link)",
  })
  @ID
  @ApiZodBody(inviteStaffSchema, {
    examples: {
      staff: { value: { email: 'desk@riverside.example', name: 'Sam Lee', role: 'admin' } },
    },
  })
  @ApiCreatedResponse({ type: InvitedStaffDto })
  @ApiErrors(
    { status: 400, message: 'role: must be "staff" (patients, triage, imports) or "admin"' },
    NO_CLINIC,
    {
      status: 409,
      message: "email: d***@riverside.example is already on this clinic's staff as staff",
    },
  )
  invite(@Param('id') id: string, @Body(new ZodPipe(inviteStaffSchema)) body: InviteStaffInput) {
    return this.staff.invite(id, body, { kind: 'operator' });
  }

  @Get(':id/staff')
  @ApiOperation({ summary: 'The clinic’s staff (removed ones last)' })
  @ID
  @ApiOkResponse({ type: [StaffDto] })
  @ApiErrors(NO_CLINIC)
  listStaff(@Param('id') id: string) {
    return this.staff.list(id);
  }

  @Delete(':id/staff/:staffId')
  @HttpCode(200)
  @ApiOperation({ summary: 'Remove a member of staff: their sessions end at once' })
  @ID
  @ApiParam({ name: 'staffId', format: 'uuid' })
  @ApiOkResponse({ type: StaffDto })
  @ApiErrors({
    status: 404,
    message: 'staff member 7d0e3b52-4f8a-4c1e-9a61-2b7f0c9d1e34 not found',
  })
  removeStaff(@Param('id') id: string, @Param('staffId') staffId: string) {
    return this.staff.remove(id, staffId, { kind: 'operator' });
  }
}
