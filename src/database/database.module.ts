import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, type AppConfig } from '../config/index.js';
import { createDb, DB, type Db } from './database.js';
import { Transactions } from './transactions.js';

@Global()
@Module({
  providers: [
    {
      provide: DB,
      inject: [CONFIG],
      useFactory: (config: AppConfig) => createDb(config.databaseUrl),
    },
    Transactions,
  ],
  exports: [DB, Transactions],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DB) private readonly db: Db) {}

  async onApplicationShutdown(): Promise<void> {
    await this.db.destroy();
  }
}
