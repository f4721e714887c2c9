// The mutation run of the enrolment state machine and the clinic API
// (npm run test:mutation:clinics, stryker.clinics.config.mjs): the tests that pin them
// through the real HTTP API and database, without workers.
import base from './jest.mutation.config.js';

export default {
  ...base,
  testMatch: [
    '<rootDir>/src/enrollments/lifecycle.spec.ts',
    '<rootDir>/test/lifecycle.test.ts',
    '<rootDir>/test/clinic-api.test.ts',
    '<rootDir>/test/mutation-guards.test.ts',
    '<rootDir>/test/signup.test.ts',
    '<rootDir>/test/safety-hold.test.ts',
  ],
};
