export * from './database.js';
export * from './schema.js';
export { DatabaseModule } from './database.module.js';
export { Transactions, type Tx } from './transactions.js';
