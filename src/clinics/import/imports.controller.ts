import { Controller, Get, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiErrors, ApiZodQuery, invalid, ZodPipe } from '../../common/index.js';
import type { ClinicCaller } from '../api-keys.service.js';
import { Caller, ClinicKeyGuard, RequireScope } from '../clinic-key.guard.js';
import {
  IMPORT_CSV_EXAMPLE,
  ImportJobDto,
  startImportQuerySchema,
  type StartImportQuery,
} from './import.openapi.js';
import { ImportsService } from './imports.service.js';

const BASE = '/api/v1/enrollments/import';
const CSV_TYPES = ['text/csv', 'application/csv', 'text/plain'];
const ID = ApiParam({
  name: 'id',
  format: 'uuid',
  description:
    'Another clinic’s import, or a malformed id, answers 404 like one that does not exist',
});
const NOT_FOUND = {
  status: 404,
  message: 'import 5b0c3e9a-1f2d-4c8e-9a61-2b7f0c9d1e34 not found',
} as const;

/** Bulk CSV import of a clinic's patients, with an API key with the scope `import`. */
@ApiTags('clinic')
@ApiBearerAuth('clinicKey')
@ApiErrors(
  { status: 401, message: 'Authorization: the API key was revoked' },
  { status: 403, message: 'Authorization: this API key lacks the scope import' },
)
@UseGuards(ClinicKeyGuard)
@Controller('api/v1/enrollments/import')
export class ImportsController {
  constructor(private readonly imports: ImportsService) {}

  @Post()
  @HttpCode(202)
  @RequireScope('import')
  @ApiOperation({
    summary: 'Import patients from a CSV file (streamed); follow the import at Location',
    description:
      'Columns (header names match case-insensitively): name, email, phone, country, channel, ' +
      'timezone, sendTime, externalId, campaign, consentMethod, consentObtainedAt, ' +
      'consentCollectedBy, consentText. Each row is checked like the body of POST ' +
      '/api/v1/enrollments; a row with the consent columns filled is enrolled, a row without ' +
      'them gets an invitation the patient must confirm. Bad rows are reported (errors.csv), ' +
      'the rest go on. A file with unknown or missing columns, a row over 10 MB, broken ' +
      'quoting or binary data is refused whole (400) and nothing is stored. One import per ' +
      'clinic at a time (409). See docs/imports.md.',
  })
  @ApiConsumes(...CSV_TYPES)
  @ApiBody({
    required: true,
    description: 'The CSV file (UTF-8, comma separated; a BOM and CRLF are fine)',
    schema: { type: 'string', example: IMPORT_CSV_EXAMPLE },
  })
  @ApiZodQuery(startImportQuerySchema, {
    dryRun: 'true: check every row, enrol nobody',
    campaign: 'The campaign of rows without a campaign cell (default upper-back-relief)',
    filename: 'A name to show for the import',
  })
  @ApiResponse({
    status: 202,
    type: ImportJobDto,
    description: 'The file is in; the rows are being enrolled',
    headers: {
      Location: {
        description: 'The import’s progress: /api/v1/enrollments/import/{id}',
        schema: { type: 'string' },
      },
    },
  })
  @ApiErrors(
    {
      status: 400,
      message: 'columns: unknown column "fax"; missing required column: channel',
    },
    {
      status: 409,
      message:
        'import: import 5b0c3e9a-1f2d-4c8e-9a61-2b7f0c9d1e34 is still running for this clinic; wait for it to finish',
    },
  )
  async start(
    @Caller() caller: ClinicCaller,
    @Query(new ZodPipe(startImportQuerySchema)) query: StartImportQuery,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    if (!req.is(CSV_TYPES)) {
      req.resume();
      throw invalid(
        'Content-Type',
        `must be text/csv (got ${req.headers['content-type'] ?? 'none'})`,
      );
    }
    const job = await this.imports.start(caller.clinicId, req, {
      dryRun: query.dryRun,
      filename: query.filename,
      campaign: query.campaign,
      startedBy: `api-key:${caller.keyId}`,
    });
    res.location(`${BASE}/${job.id}`);
    return job;
  }

  @Get(':id')
  @RequireScope('import')
  @ApiOperation({ summary: 'An import’s progress: status and counts' })
  @ID
  @ApiOkResponse({ type: ImportJobDto })
  @ApiErrors(NOT_FOUND)
  progress(@Caller() caller: ClinicCaller, @Param('id') id: string) {
    return this.imports.progress(caller.clinicId, id);
  }

  @Get(':id/errors.csv')
  @RequireScope('import')
  @ApiOperation({
    summary: 'The rows that failed, as CSV: row (header = 1), error, then the file’s columns',
    description:
      'Correct the rows and upload this file again: the row and error columns are ignored.',
  })
  @ID
  @ApiProduces('text/csv')
  @ApiOkResponse({
    description: 'The error report',
    content: {
      'text/csv': {
        schema: { type: 'string' },
        example:
          'row,error,name,phone,channel\r\n4,"phone: looks like Excel turned the phone number into a number in scientific notation; format the column as text",Pat Doe,4.15555E+10,sms\r\n',
      },
    },
  })
  @ApiErrors(NOT_FOUND)
  async errors(
    @Caller() caller: ClinicCaller,
    @Param('id') id: string,
    @Res() res: Response,
  ): Promise<void> {
    const csv = await this.imports.errorsCsv(caller.clinicId, id);
    res.status(200);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="import-${id}-errors.csv"`);
    csv.on('error', () => res.destroy());
    csv.pipe(res);
  }
}
