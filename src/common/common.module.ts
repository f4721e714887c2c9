import { Global, Module } from '@nestjs/common';
import { Clock, SystemClock } from './clock.js';

/** The clock: injected nearly everywhere (tests move it), so global like config and database. */
@Global()
@Module({
  providers: [{ provide: Clock, useClass: SystemClock }],
  exports: [Clock],
})
export class CommonModule {}
