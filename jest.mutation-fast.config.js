// The quick mutation run (npm run test:mutation:fast): only the tests written to pin the
// delivery and scheduling core without starting queues and workers per mutant. Its scores
// are a lower bound of the full run's (npm run test:mutation, about two hours here), which
// also counts what the integration suites kill.
import base from './jest.mutation.config.js';

export default {
  ...base,
  testMatch: [
    '<rootDir>/src/enrollments/schedule.spec.ts',
    '<rootDir>/src/enrollments/schedule-rules.spec.ts',
    '<rootDir>/src/channels/classify.spec.ts',
    '<rootDir>/test/mutation-guards.test.ts',
    // Repository-level, no workers: every transition from every state.
    '<rootDir>/test/delivery-states.test.ts',
  ],
};
