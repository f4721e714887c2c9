// The tests that exercise the delivery and scheduling core, for mutation testing
// (npm run test:mutation, stryker.config.mjs). Everything else comes from jest.config.js.
// Left out on purpose: test/outage.test.ts (a minute long, mostly HTTP and /health; the
// processor's outage path is pinned in mutation-guards.test.ts), and suites that run the
// built service in other processes (quickstart, chaos), which Stryker cannot instrument.
import { fileURLToPath } from 'node:url';
import base from './jest.config.js';

export default {
  ...base,
  // Only the files that hold the tests Stryker asks for (see the file).
  testSequencer: '<rootDir>/jest.mutation.sequencer.js',
  // Skips the rest of a mutant's tests once one has failed (see the file).
  testEnvironment: fileURLToPath(new URL('./jest.mutation.environment.cjs', import.meta.url)),
  testMatch: [
    '<rootDir>/src/enrollments/schedule.spec.ts',
    '<rootDir>/src/enrollments/schedule-rules.spec.ts',
    '<rootDir>/src/channels/classify.spec.ts',
    '<rootDir>/test/delivery-states.test.ts',
    '<rootDir>/test/delivery-faults.test.ts',
    '<rootDir>/test/reconciler.test.ts',
    '<rootDir>/test/worker-rechecks.test.ts',
    '<rootDir>/test/idempotency.test.ts',
    '<rootDir>/test/drip-sms.test.ts',
    '<rootDir>/test/drip-email.test.ts',
    '<rootDir>/test/admin-deliveries.test.ts', // DeliveriesRepository.listProblems
    '<rootDir>/test/mutation-guards.test.ts',
  ],
};
