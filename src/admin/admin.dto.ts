import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { CANCEL_REASONS as CANCELS, CONSENT_KINDS as KINDS } from '../database/index.js';

const CANCEL_REASONS = [...CANCELS];
const CONSENT_KINDS = [...KINDS];

/*
 * What the admin routes answer, for the OpenAPI document (validation of input is zod's, in
 * the controllers). test/contract.test.ts checks real answers against these.
 */

const CHANNELS = ['email', 'sms'];
const ENROLLMENT_STATUSES = ['pending', 'active', 'paused', 'completed', 'cancelled'];
const PAUSE_REASONS = ['person', 'operator', 'safety'];
const DELIVERY_STATUSES = ['queued', 'sending', 'sent', 'delivered', 'failed', 'skipped'];

const UUID_EXAMPLE = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';

const Uuid = (opts: ApiPropertyOptions = {}) =>
  ApiProperty({ type: 'string', format: 'uuid', example: UUID_EXAMPLE, ...opts });
const DateTime = (opts: ApiPropertyOptions = {}) =>
  ApiProperty({
    type: 'string',
    format: 'date-time',
    example: '2026-11-30T08:00:00.000Z',
    ...opts,
  });
const NullableDateTime = (opts: ApiPropertyOptions = {}) =>
  DateTime({ nullable: true, ...opts } as ApiPropertyOptions);
const NullableString = (opts: ApiPropertyOptions = {}) =>
  ApiProperty({ type: 'string', nullable: true, ...opts } as ApiPropertyOptions);
/** OpenAPI 3.0 wants null listed in a nullable enum, or validators refuse the null. */
const NullableEnum = (values: string[], opts: ApiPropertyOptions = {}) =>
  ApiProperty({
    type: 'string',
    enum: [...values, null] as string[],
    nullable: true,
    ...opts,
  } as ApiPropertyOptions);

/** An enrolment as every change answers it. */
export class EnrollmentSummaryDto {
  @Uuid()
  id!: string;

  @Uuid()
  subscriberId!: string;

  @ApiProperty({ example: 'upper-back-relief' })
  campaign!: string;

  @ApiProperty({ enum: CHANNELS, example: 'email' })
  channel!: string;

  @ApiProperty({ enum: ENROLLMENT_STATUSES, example: 'active' })
  status!: string;

  @ApiProperty({ type: 'integer', description: 'Steps queued so far', example: 1 })
  step!: number;

  @NullableString({
    description: 'Key of the step it waits on; null: the first one the person has not had',
    example: 'day-2',
  })
  nextStep!: string | null;

  @NullableDateTime({ description: 'When the next step goes; null when nothing is due' })
  nextSendAt!: string | null;

  @NullableEnum(CANCEL_REASONS, { description: 'Why it ended, when cancelled', example: null })
  cancelReason!: string | null;

  @NullableEnum(PAUSE_REASONS, {
    description: 'Why it is paused (safety: a warning sign in a reply)',
    example: null,
  })
  pauseReason!: string | null;
}

export class EnrollmentDeliveryDto {
  @Uuid()
  id!: string;

  @ApiProperty({ type: 'integer', description: 'The n-th delivery of the enrolment', example: 0 })
  step!: number;

  @ApiProperty({ example: 'welcome' })
  stepKey!: string;

  @ApiProperty({ enum: CHANNELS, example: 'email' })
  channel!: string;

  @ApiProperty({ enum: DELIVERY_STATUSES, example: 'sent' })
  status!: string;

  @ApiProperty({ type: 'integer', example: 1 })
  attempts!: number;

  @NullableString({ description: 'The provider’s message id', example: '<d1@selfcare.example>' })
  providerId!: string | null;

  @NullableString({ example: null })
  error!: string | null;

  @NullableString({
    description: 'How an unknown outcome (a crash or timeout mid-send) was settled',
    example: null,
  })
  resolution!: string | null;

  @DateTime()
  createdAt!: string;

  @NullableDateTime()
  sentAt!: string | null;
}

/** One enrolment with its schedule and every delivery. */
export class EnrollmentDetailDto extends EnrollmentSummaryDto {
  @ApiProperty({ example: 'America/New_York' })
  timezone!: string;

  @ApiProperty({ example: '08:00' })
  sendTime!: string;

  @ApiProperty({ description: 'Who enrolled the person', example: 'admin' })
  source!: string;

  @DateTime()
  createdAt!: string;

  @ApiProperty({ type: [EnrollmentDeliveryDto] })
  deliveries!: EnrollmentDeliveryDto[];
}

export class SubscriberRefDto {
  @Uuid()
  id!: string;
}

export class ConsentSubscriberDto {
  @Uuid()
  id!: string;

  @NullableString({ example: 'pat@example.com' })
  email!: string | null;

  @NullableString({ example: null })
  phone!: string | null;

  @NullableString({ example: 'Pat' })
  name!: string | null;

  @DateTime()
  createdAt!: string;
}

export class ConsentEventDto {
  @DateTime()
  at!: string;

  @ApiProperty({ enum: CONSENT_KINDS, example: 'requested' })
  kind!: string;

  @ApiProperty({ enum: CHANNELS, example: 'email' })
  channel!: string;

  @ApiProperty({ example: 'web-form' })
  source!: string;

  @NullableString({ example: 'signup-v3' })
  textVersion!: string | null;

  @NullableString({ example: 'upper-back-relief' })
  campaign!: string | null;

  @NullableString({ description: 'The exact words shown', example: 'I agree to receive…' })
  text!: string | null;

  @ApiProperty({ description: 'false: rebuilt from the versioned text (older events)' })
  textStored!: boolean;

  @NullableString({ description: 'What the person wrote (an SMS keyword)', example: null })
  words!: string | null;

  @NullableString({ example: '203.0.113.7' })
  ip!: string | null;

  @NullableString({ example: 'Mozilla/5.0' })
  userAgent!: string | null;
}

export class ConsentEnrollmentDto {
  @Uuid()
  id!: string;

  @ApiProperty({ example: 'upper-back-relief' })
  campaign!: string;

  @ApiProperty({ enum: CHANNELS, example: 'email' })
  channel!: string;

  @ApiProperty({ enum: ENROLLMENT_STATUSES, example: 'active' })
  status!: string;

  @NullableEnum(CANCEL_REASONS, { example: null })
  cancelReason!: string | null;

  @DateTime()
  createdAt!: string;
}

export class SuppressionDto {
  @ApiProperty({ example: 'pat@example.com' })
  address!: string;

  @ApiProperty({ enum: CHANNELS, example: 'email' })
  channel!: string;

  @ApiProperty({ example: 'unsubscribe' })
  reason!: string;

  @DateTime()
  at!: string;
}

/** Everything held as evidence of one person's consent. */
export class ConsentExportDto {
  @ApiProperty({ type: ConsentSubscriberDto })
  subscriber!: ConsentSubscriberDto;

  @ApiProperty({ type: [ConsentEventDto] })
  consentEvents!: ConsentEventDto[];

  @ApiProperty({ type: [ConsentEnrollmentDto] })
  enrollments!: ConsentEnrollmentDto[];

  @ApiProperty({ type: [SuppressionDto] })
  suppressions!: SuppressionDto[];

  @DateTime()
  exportedAt!: string;
}

export class SafetyEventDto {
  @DateTime()
  at!: string;

  @ApiProperty({ description: 'emergency, see-physician or cleared', example: 'emergency' })
  kind!: string;

  @ApiProperty({ description: 'sms, or who lifted it: clinic, operator, patient', example: 'sms' })
  source!: string;

  @ApiProperty({ type: [String], example: ['chest'] })
  signs!: string[];

  @NullableString({ format: 'uuid', example: null })
  inboundMessageId!: string | null;

  @NullableString({ example: null })
  note!: string | null;
}

/** The safety hold of one person, and every warning sign and lift on record. */
export class SafetyStatusDto {
  @ApiProperty({ example: false })
  held!: boolean;

  @NullableDateTime({ example: null })
  since!: string | null;

  @ApiProperty({ type: [String], example: [] })
  signs!: string[];

  @ApiProperty({ type: [SafetyEventDto] })
  events!: SafetyEventDto[];
}

export class HoldLiftedDto {
  @ApiProperty({ description: 'false: there was no hold (nothing recorded)', example: true })
  lifted!: boolean;

  @ApiProperty({ type: 'integer', description: 'Enrolments resumed', example: 1 })
  resumed!: number;

  @ApiProperty({ type: SafetyStatusDto })
  safety!: SafetyStatusDto;
}

export class ProblemDeliveryDto {
  @Uuid()
  id!: string;

  @Uuid()
  enrollmentId!: string;

  @ApiProperty({ example: 'upper-back-relief' })
  campaign!: string;

  @ApiProperty({ type: 'integer', example: 0 })
  step!: number;

  @ApiProperty({ example: 'welcome' })
  stepKey!: string;

  @ApiProperty({ enum: CHANNELS, example: 'email' })
  channel!: string;

  @ApiProperty({ enum: DELIVERY_STATUSES, example: 'failed' })
  status!: string;

  @ApiProperty({ type: 'integer', example: 1 })
  attempts!: number;

  @NullableString({ example: 'undeliverable: SMTP 550 5.1.1 at RCPT TO' })
  error!: string | null;

  @NullableString({ example: null })
  resolution!: string | null;

  @DateTime()
  updatedAt!: string;
}

export class ProblemDeliveriesDto {
  @ApiProperty({ enum: ['failed', 'skipped', 'unresolved', 'settled'], example: 'failed' })
  kind!: string;

  @DateTime()
  since!: string;

  @ApiProperty({ type: [ProblemDeliveryDto], description: 'Newest first' })
  deliveries!: ProblemDeliveryDto[];
}

/** One channel: sending, or paused by a configuration fault (and which). */
export class ChannelStateDto {
  @ApiProperty({ enum: ['sending', 'paused'], example: 'paused' })
  status!: string;

  @ApiPropertyOptional({ description: 'The kind of fault', example: 'config' })
  kind?: string;

  @ApiPropertyOptional({ example: 'SMTP 535 authentication failed' })
  error?: string;

  @ApiPropertyOptional({
    oneOf: [{ type: 'string' }, { type: 'integer' }],
    description: 'The provider’s error code',
    example: 535,
  })
  code?: string | number;

  @ApiPropertyOptional({ description: 'When it paused (ISO date-time)' })
  since?: string;

  @ApiPropertyOptional({ description: 'When a probe last tried (ISO date-time)' })
  lastProbe?: string;

  @ApiPropertyOptional({ example: 'SMTP 535 authentication failed' })
  lastProbeError?: string;
}

export class ChannelsDto {
  @ApiProperty({ type: ChannelStateDto })
  email!: ChannelStateDto;

  @ApiProperty({ type: ChannelStateDto })
  sms!: ChannelStateDto;
}

export class CampaignStepDto {
  @ApiProperty({ type: 'integer', example: 1 })
  number!: number;

  @ApiProperty({ example: 'welcome' })
  key!: string;

  @ApiProperty({ example: 'Welcome' })
  title!: string;
}

export class CampaignDto {
  @ApiProperty({ example: 'upper-back-relief' })
  id!: string;

  @ApiProperty({ example: 'Upper-back relief' })
  name!: string;

  @ApiProperty({ enum: ['patients', 'demo'], example: 'patients' })
  audience!: string;

  @ApiProperty({ description: '"daily", or "every <n>s"', example: 'daily' })
  cadence!: string;

  @ApiProperty({ description: 'SMS only between 08:00 and 21:00 local time', example: true })
  quietHours!: boolean;

  @ApiProperty({ type: [CampaignStepDto] })
  steps!: CampaignStepDto[];
}

export class EmailPreviewDto {
  @ApiProperty({ example: 'Welcome to Upper-back relief' })
  subject!: string;

  @ApiProperty({ example: '<!doctype html>…' })
  html!: string;

  @ApiProperty({ example: 'Hi Sam, …' })
  text!: string;
}

export class SmsPreviewDto {
  @ApiProperty({ example: 'Hi Sam, today’s tip: … Reply STOP to stop.' })
  body!: string;

  @ApiProperty({ type: 'integer', example: 1 })
  segments!: number;

  @ApiProperty({ enum: ['GSM-7', 'UCS-2'], example: 'GSM-7' })
  encoding!: string;
}
