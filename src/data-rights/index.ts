export { DataRightsModule } from './data-rights.module.js';
export { DataRightsService, type ErasureResult } from './data-rights.service.js';
export { RetentionModule } from './retention.module.js';
export {
  NOTHING_PURGED,
  RETENTION_BATCH,
  RETENTION_BATCHES_PER_PASS,
  RetentionService,
  type RetentionResult,
} from './retention.service.js';
export { ErasureDto, PersonExportDto } from './data-rights.openapi.js';
export type * from './export-views.js';
