import { ApiProperty, type ApiPropertyOptions } from '@nestjs/swagger';
import { CANCEL_REASONS, CONSENT_KINDS } from '../database/index.js';
import { API_KEY_SCOPES } from './api-keys.service.js';
import { CONSENT_METHODS, ENROLLMENT_STATUSES } from './clinic.dto.js';

/*
 * What the clinic API and the admin clinic routes answer, for the OpenAPI document (input is
 * validated by the zod schemas in clinic.dto.ts, which document themselves). The contract
 * test sends the clinic tests' traffic through a validator of this document.
 */

const UUID = '7d0e3b52-4f8a-4c1e-9a61-2b7f0c9d1e34';
const str = (example: string, opts: ApiPropertyOptions = {}) =>
  ApiProperty({ type: 'string', example, ...opts } as ApiPropertyOptions);
const nullable = (example: string | null, opts: ApiPropertyOptions = {}) =>
  ApiProperty({ type: 'string', nullable: true, example, ...opts } as ApiPropertyOptions);
const when = (opts: ApiPropertyOptions = {}) =>
  ApiProperty({
    type: 'string',
    format: 'date-time',
    example: '2026-11-30T14:05:00.000Z',
    ...opts,
  } as ApiPropertyOptions);
const nullableWhen = (opts: ApiPropertyOptions = {}) =>
  when({ nullable: true, ...opts } as ApiPropertyOptions);
const nullableEnum = (values: readonly string[], opts: ApiPropertyOptions = {}) =>
  ApiProperty({
    type: 'string',
    enum: [...values, null],
    nullable: true,
    example: null,
    ...opts,
  } as ApiPropertyOptions);

export class ClinicDto {
  @str(UUID, { format: 'uuid' }) id!: string;
  @str('riverside-chiropractic', { description: 'Its signup page is /c/<slug>' }) slug!: string;
  @str('Riverside Chiropractic') name!: string;
  @str('America/New_York') timezone!: string;
  @str('Riverside Chiropractic', { description: 'The name messages are sent under' })
  senderName!: string;
  @str('desk@riverside.example') replyTo!: string;
  @str('+12125550199') phone!: string;
  @str('12 River St, Springfield, NY 10001') postalAddress!: string;
  @str('https://riverside.example/book') bookingUrl!: string;
  @nullable('Dr. Ana Ruiz') chiropractorName!: string | null;
  @nullable('https://riverside.example/logo.png') logoUrl!: string | null;
  @nullable('+12125550100', { description: 'Its own SMS number or messaging service (MG…)' })
  smsFrom!: string | null;
  @nullable('+12125550142', { description: 'Red flags are texted to this on-call mobile' })
  onCallPhone!: string | null;
  @nullable('oncall@riverside.example', {
    description: "Red flags are emailed here; null: to the clinic's admins",
  })
  alertEmail!: string | null;
  @ApiProperty({
    enum: ['confirm', 'attested'],
    example: 'confirm',
    description:
      'confirm: the patient confirms once before the tips start; attested: the clinic holds written consent',
  })
  consentMode!: string;
  @str('https://tips.example.org/c/riverside-chiropractic') signupUrl!: string;
  @when() createdAt!: string;
  @when() updatedAt!: string;
}

export class StaffDto {
  @str(UUID, { format: 'uuid' }) id!: string;
  @str('desk@riverside.example') email!: string;
  @str('Sam Lee') name!: string;
  @ApiProperty({
    enum: ['staff', 'admin'],
    example: 'staff',
    description: 'staff: patients, triage, imports; admin: also the audit log and staff',
  })
  role!: string;
  @when() createdAt!: string;
  @nullableWhen() lastSignInAt!: string | null;
  @nullableWhen({ description: 'Removed: no sign-in, sessions ended' }) disabledAt!: string | null;
}

export class InvitedStaffDto {
  @ApiProperty({ type: StaffDto }) staff!: StaffDto;
  @ApiProperty({ description: 'false: already on the staff; a fresh sign-in link was sent' })
  created!: boolean;
}

export class ApiKeyDto {
  @str('3f9a1c0b7d2e4a65', { description: 'The key id, the public part of the key' })
  id!: string;
  @str('sdk_live_3f9a1c0b7d2e4a65') prefix!: string;
  @nullable('Front desk PC') name!: string | null;
  @ApiProperty({
    type: 'array',
    items: { type: 'string', enum: [...API_KEY_SCOPES] },
    example: ['enrollments:write', 'enrollments:read'],
  })
  scopes!: string[];
  @when() createdAt!: string;
  @nullableWhen({ description: 'A rotated key stops working then' }) expiresAt!: string | null;
  @nullableWhen() revokedAt!: string | null;
  @nullableWhen({ description: 'Recorded at most once a minute' }) lastUsedAt!: string | null;
}

export class IssuedApiKeyDto extends ApiKeyDto {
  @str('sdk_live_3f9a1c0b7d2e4a65_kq0Zb2y8vJ1cXw3mT5nR7pL9sD4fG6hA8jK0lQ2eU1i', {
    description: 'The key itself: shown in this answer only, stored only as a hash',
  })
  apiKey!: string;
}

export class RotatedApiKeyDto {
  @ApiProperty({ type: ApiKeyDto, description: 'The old key, with its expiresAt' })
  previous!: ApiKeyDto;
  @ApiProperty({ type: IssuedApiKeyDto }) next!: IssuedApiKeyDto;
}

export class ClinicEnrollmentDto {
  @str(UUID, { format: 'uuid' }) id!: string;
  @nullable('visit-881', { description: 'The clinic’s own id for the patient or visit' })
  externalId!: string | null;
  @str('upper-back-relief') campaign!: string;
  @ApiProperty({ enum: ['email', 'sms'], example: 'sms' }) channel!: string;
  @ApiProperty({ enum: [...ENROLLMENT_STATUSES], example: 'pending' }) status!: string;
  @nullableEnum(['patient-confirmation'], {
    description: 'Pending: waiting for the patient to confirm (YES, or the email button)',
    example: 'patient-confirmation',
  })
  awaiting!: string | null;
  @nullable('Pat Doe') name!: string | null;
  @nullable(null, { description: 'For an email enrolment' }) email!: string | null;
  @nullable('+14155550123', { description: 'For an SMS enrolment' }) phone!: string | null;
  @str('America/New_York') timezone!: string;
  @str('08:00', { description: 'Local HH:MM' }) sendTime!: string;
  @ApiProperty({ type: 'integer', example: 0, description: 'Messages queued so far' })
  step!: number;
  @nullableWhen({ description: 'When the next message goes; null when none is planned' })
  nextSendAt!: string | null;
  @nullableEnum(['person', 'operator', 'safety'], {
    description: 'Why it is paused (safety: a warning sign in a reply)',
  })
  pauseReason!: string | null;
  @nullableEnum(CANCEL_REASONS, { description: 'Why it ended, when cancelled' })
  cancelReason!: string | null;
  @when() createdAt!: string;
}

export class ClinicDeliveryDto {
  @str(UUID, { format: 'uuid' }) id!: string;
  @ApiProperty({ type: 'integer', example: 0 }) step!: number;
  @str('welcome') stepKey!: string;
  @ApiProperty({ enum: ['email', 'sms'], example: 'sms' }) channel!: string;
  @ApiProperty({
    enum: ['queued', 'sending', 'sent', 'delivered', 'failed', 'skipped'],
    example: 'delivered',
  })
  status!: string;
  @nullable(null) error!: string | null;
  @when() createdAt!: string;
  @nullableWhen() sentAt!: string | null;
}

export class PainScoreDto {
  @ApiProperty({ type: 'integer', minimum: 0, maximum: 10, example: 4 }) score!: number;
  @str('sms-reply') source!: string;
  @when() at!: string;
}

export class ClinicConsentEventDto {
  @ApiProperty({ enum: [...CONSENT_KINDS], example: 'attested' }) kind!: string;
  @ApiProperty({ enum: ['email', 'sms'], example: 'sms' }) channel!: string;
  @str('clinic-api') source!: string;
  @nullableEnum(CONSENT_METHODS, { example: 'verbal' }) method!: string | null;
  @nullableWhen() obtainedAt!: string | null;
  @nullable('Front desk (Sam)') collectedBy!: string | null;
  @nullable('The words shown to the patient') text!: string | null;
  @nullable(null, { description: 'What the person texted, for a keyword' }) words!: string | null;
  @when() at!: string;
}

export class ClinicEnrollmentDetailDto extends ClinicEnrollmentDto {
  @ApiProperty({ type: [ClinicDeliveryDto] }) deliveries!: ClinicDeliveryDto[];
  @ApiProperty({ type: [PainScoreDto] }) painScores!: PainScoreDto[];
  @ApiProperty({ type: [ClinicConsentEventDto] }) consentEvents!: ClinicConsentEventDto[];
}

export class ClinicEnrollmentPageDto {
  @ApiProperty({ type: [ClinicEnrollmentDto] }) data!: ClinicEnrollmentDto[];
  @nullable('MjAyNi0xMS0zMFQxNDowNTowMC4wMDBafDdkMGUzYjUy', {
    description: 'Pass as cursor for the next page; null on the last one',
  })
  nextCursor!: string | null;
}
