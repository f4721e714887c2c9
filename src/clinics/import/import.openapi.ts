import { ApiProperty, type ApiPropertyOptions } from '@nestjs/swagger';
import { z } from 'zod';

/** Query of POST /api/v1/enrollments/import. */
export const startImportQuerySchema = z.strictObject({
  dryRun: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  campaign: z.string().min(1, 'is required').max(100).optional(),
  filename: z.string().max(200, 'must be at most 200 characters').optional(),
});
export type StartImportQuery = z.output<typeof startImportQuerySchema>;

const n = (description: string) =>
  ApiProperty({ type: 'integer', minimum: 0, example: 47, description });
const when = (opts: ApiPropertyOptions = {}) =>
  ApiProperty({
    type: 'string',
    format: 'date-time',
    example: '2026-11-30T14:05:00.000Z',
    ...opts,
  } as ApiPropertyOptions);

export class ImportJobDto {
  @ApiProperty({ type: 'string', format: 'uuid', example: '5b0c3e9a-1f2d-4c8e-9a61-2b7f0c9d1e34' })
  id!: string;
  @ApiProperty({
    enum: ['receiving', 'queued', 'running', 'completed', 'rejected', 'failed'],
    example: 'queued',
    description:
      'receiving (the upload is being read) → queued → running → completed; rejected: the file was refused as a whole (reason says why), nothing was imported; failed: the upload broke off',
  })
  status!: string;
  @ApiProperty({ example: false, description: 'Checked only: nobody was enrolled' })
  dryRun!: boolean;
  @ApiProperty({ type: 'string', nullable: true, example: 'patients-november.csv' })
  filename!: string | null;
  @ApiProperty({ example: 'upper-back-relief', description: 'For rows without a campaign cell' })
  campaign!: string;
  @ApiProperty({ example: 'api-key:3f9a1c0b7d2e4a65' })
  startedBy!: string;
  @n('Data rows in the file (so far, while it is read)') totalRows!: number;
  @n('Rows done') processed!: number;
  @n('Rows with consent evidence, enrolled (pending until confirmed under consent mode "confirm")')
  enrolled!: number;
  @n('Rows without consent columns: invited, pending until the patient confirms')
  invited!: number;
  @n('Rows refused; see errors.csv') failed!: number;
  @ApiProperty({
    type: 'string',
    nullable: true,
    example: null,
    description: 'Why the file was rejected or the import failed',
  })
  reason!: string | null;
  @when() createdAt!: string;
  @when({ nullable: true } as ApiPropertyOptions) startedAt!: string | null;
  @when({ nullable: true } as ApiPropertyOptions) finishedAt!: string | null;
  @when() updatedAt!: string;
}

export const IMPORT_CSV_EXAMPLE =
  'name,email,phone,channel,timezone,sendTime,externalId,consentMethod,consentObtainedAt,consentCollectedBy\r\n' +
  'Pat Doe,,+14155550123,sms,America/New_York,08:00,visit-881,written,2026-11-30T14:05:00Z,Front desk (Sam)\r\n' +
  '"Lee, Sam",sam@example.com,,email,,07:30,visit-882,,,\r\n';
