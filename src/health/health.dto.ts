import { ApiProperty, type SchemaObject } from '@nestjs/swagger';

/** One entry of the report: up, degraded (still 200) or down (503), with details. */
const ENTRY: SchemaObject = {
  type: 'object',
  required: ['status'],
  properties: {
    status: { type: 'string', enum: ['up', 'degraded', 'down'] },
    message: { type: 'string', description: 'Why, in a few words' },
  },
  // Entries add details of their own (since, errors, lastError, a channel fault's code).
  additionalProperties: true,
};

/** What /health answers (Terminus's shape), 200 or 503 alike. */
export class HealthReportDto {
  @ApiProperty({ enum: ['ok', 'error', 'shutting_down'], example: 'ok' })
  status!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: ENTRY,
    description: 'Entries that are not down',
    example: { postgres: { status: 'up' }, redis: { status: 'up' } },
  })
  info!: object;

  @ApiProperty({
    type: 'object',
    additionalProperties: ENTRY,
    description: 'Entries that are down',
    example: {},
  })
  error!: object;

  @ApiProperty({
    type: 'object',
    additionalProperties: ENTRY,
    description: 'Every entry',
    example: { postgres: { status: 'up' }, redis: { status: 'up' } },
  })
  details!: object;
}
