export { ImportsModule } from './imports.module.js';
export { ImportsService, type ImportView, type StartImportOptions } from './imports.service.js';
export { ImportsProcessor, IMPORT_BATCH_SIZE, IMPORT_LEASE_MS } from './imports.processor.js';
export { ImportsWorker } from './imports.worker.js';
export { MAX_ROW_BYTES } from './csv-reader.js';
export { IMPORT_COLUMNS } from './csv-columns.js';
