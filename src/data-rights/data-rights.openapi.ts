import { ApiProperty, type ApiPropertyOptions } from '@nestjs/swagger';

/* The admin answers of data rights, for the OpenAPI document (see export-views.ts). */

const UUID_EXAMPLE = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';
const AT = '2026-11-30T08:00:00.000Z';

const Uuid = (opts: ApiPropertyOptions = {}) =>
  ApiProperty({ type: 'string', format: 'uuid', example: UUID_EXAMPLE, ...opts });
const Str = (example: string | null, opts: ApiPropertyOptions = {}) =>
  ApiProperty({ type: 'string', example, ...opts } as ApiPropertyOptions);
const NStr = (example: string | null = null, opts: ApiPropertyOptions = {}) =>
  ApiProperty({ type: 'string', nullable: true, example, ...opts } as ApiPropertyOptions);
const NUuid = () => NStr(null, { format: 'uuid' });
const At = () => Str(AT, { format: 'date-time' });
const NAt = () => NStr(null, { format: 'date-time' });
const Int = (example: number, opts: ApiPropertyOptions = {}) =>
  ApiProperty({ type: 'integer', example, ...opts });

export class ExportAddressDto {
  @Uuid() subscriberId!: string;
  @NStr('pat@example.com') email!: string | null;
  @NStr('+14155550123') phone!: string | null;
  @NStr('Pat') name!: string | null;
  @At() createdAt!: string;
}

export class ExportDeliveryDto {
  @Uuid() id!: string;
  @Int(0) step!: number;
  @Str('day-1') stepKey!: string;
  @Str('sms', { enum: ['email', 'sms'] }) channel!: string;
  @Str('delivered') status!: string;
  @Int(1) attempts!: number;
  @NStr() error!: string | null;
  @At() createdAt!: string;
  @At() updatedAt!: string;
  @NAt() sentAt!: string | null;
}

export class ExportEnrollmentDto {
  @Uuid() id!: string;
  @Uuid() subscriberId!: string;
  @NUuid() clinicId!: string | null;
  @NStr('Riverside Chiropractic', { description: 'null: the public programme' })
  clinicName!: string | null;
  @Str('upper-back-relief') campaign!: string;
  @Str('sms', { enum: ['email', 'sms'] }) channel!: string;
  @Str('active') status!: string;
  @Int(1) step!: number;
  @NStr('day-2') stepKey!: string | null;
  @Str('America/New_York') timezone!: string;
  @Str('08:00') sendTime!: string;
  @Str('clinic-api') source!: string;
  @NStr() externalId!: string | null;
  @NStr() pauseReason!: string | null;
  @NStr() cancelReason!: string | null;
  @NAt() nextSendAt!: string | null;
  @At() createdAt!: string;
  @At() updatedAt!: string;
  @ApiProperty({ type: [ExportDeliveryDto] }) deliveries!: ExportDeliveryDto[];
}

export class ExportConsentEventDto {
  @Uuid() subscriberId!: string;
  @At() at!: string;
  @Str('confirmed') kind!: string;
  @Str('sms', { enum: ['email', 'sms'] }) channel!: string;
  @Str('sms-keyword') source!: string;
  @NUuid() clinicId!: string | null;
  @NStr('sms-keyword-v1') textVersion!: string | null;
  @NStr('upper-back-relief') campaign!: string | null;
  @NStr() text!: string | null;
  @NStr('YES') words!: string | null;
  @NStr() ip!: string | null;
  @NStr() userAgent!: string | null;
  @NStr() method!: string | null;
  @NAt() obtainedAt!: string | null;
  @NStr() collectedBy!: string | null;
}

export class ExportSuppressionDto {
  @Str('+14155550123') address!: string;
  @Str('sms', { enum: ['email', 'sms'] }) channel!: string;
  @Str('sms-keyword') reason!: string;
  @At() at!: string;
}

export class ExportInboundMessageDto {
  @Uuid() id!: string;
  @At() at!: string;
  @NUuid() subscriberId!: string | null;
  @Str('+14155550123') fromPhone!: string;
  @Str('pain') kind!: string;
  @Str('4') body!: string;
}

export class ExportPainScoreDto {
  @Uuid() id!: string;
  @At() at!: string;
  @Uuid() subscriberId!: string;
  @NUuid() enrollmentId!: string | null;
  @NUuid() clinicId!: string | null;
  @Str('nprs', { description: 'nprs: 0-10 pain; groc: rating of change, -3..+3' }) kind!: string;
  @Int(4) score!: number;
  @Str('sms') source!: string;
  @NUuid() deliveryId!: string | null;
  @NAt() updatedAt!: string | null;
}

export class ExportSafetyHoldDto {
  @ApiProperty({ example: false }) held!: boolean;
  @NAt() since!: string | null;
  @NStr('chest') signs!: string | null;
  @NUuid() inboundMessageId!: string | null;
}

export class ExportSafetyEventDto {
  @Uuid() id!: string;
  @At() at!: string;
  @NUuid() subscriberId!: string | null;
  @Str('emergency') kind!: string;
  @Str('sms') source!: string;
  @NStr('chest') signs!: string | null;
  @NUuid() inboundMessageId!: string | null;
  @NStr() note!: string | null;
}

export class ExportTriageItemDto {
  @Uuid() id!: string;
  @At() at!: string;
  @Uuid() clinicId!: string;
  @Uuid() enrollmentId!: string;
  @Uuid() subscriberId!: string;
  @Str('sms') source!: string;
  @Str('chest') signs!: string;
  @NAt() acknowledgedAt!: string | null;
  @NUuid() acknowledgedBy!: string | null;
  @NStr() note!: string | null;
  @NStr() notified!: string | null;
}

export class ExportAuditRowDto {
  @Str('42') id!: string;
  @At() at!: string;
  @Uuid() clinicId!: string;
  @Str('staff', { description: 'staff, operator, patient or system' }) actor!: string;
  @NUuid() staffUserId!: string | null;
  @Str('patient.viewed') action!: string;
  @NUuid() enrollmentId!: string | null;
  @NUuid() subscriberId!: string | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    example: null,
  } as ApiPropertyOptions)
  detail!: Record<string, unknown> | null;
}

/** Everything held about one person (every subscriber row sharing the person id). */
export class PersonExportDto {
  @At() exportedAt!: string;
  @Uuid() personId!: string;
  @ApiProperty({ type: [ExportAddressDto] }) addresses!: ExportAddressDto[];
  @ApiProperty({ type: [ExportEnrollmentDto] }) enrollments!: ExportEnrollmentDto[];
  @ApiProperty({ type: [ExportConsentEventDto] }) consentEvents!: ExportConsentEventDto[];
  @ApiProperty({ type: [ExportSuppressionDto] }) suppressions!: ExportSuppressionDto[];
  @ApiProperty({ type: [ExportInboundMessageDto] }) inboundMessages!: ExportInboundMessageDto[];
  @ApiProperty({ type: [ExportPainScoreDto] }) painScores!: ExportPainScoreDto[];
  @ApiProperty({ type: ExportSafetyHoldDto }) safetyHold!: ExportSafetyHoldDto;
  @ApiProperty({ type: [ExportSafetyEventDto] }) safetyEvents!: ExportSafetyEventDto[];
  @ApiProperty({ type: [ExportTriageItemDto] }) triageItems!: ExportTriageItemDto[];
  @ApiProperty({ type: [ExportAuditRowDto] }) auditLog!: ExportAuditRowDto[];
}

/** What an erasure did: counts only. */
export class ErasureDto {
  @Str('person', {
    enum: ['person', 'clinic'],
    description:
      "person: everything about the person is gone; clinic: only one clinic's part (the person is another programme's patient too)",
  })
  scope!: string;
  @Int(1, { description: 'Live enrolments stopped before deletion' }) enrollmentsStopped!: number;
  @Int(2) enrollmentsDeleted!: number;
  @Int(2, {
    description: 'Addresses kept on the suppression list so they are never messaged again',
  })
  addressesSuppressed!: number;
}
