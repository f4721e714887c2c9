// npm run test:mutation:clinics: mutants of the enrolment state machine and the clinic API
// (keys, scopes, tenancy, Idempotency-Key), killed by the tests in
// jest.mutation-clinics.config.js. About half an hour here.
import full from './stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...full,
  mutate: [
    'src/enrollments/lifecycle.ts',
    'src/clinics/api-keys.service.ts',
    'src/clinics/clinic-key.guard.ts',
    'src/clinics/idempotency.service.ts',
    'src/clinics/idempotency.interceptor.ts',
    'src/clinics/clinic-enrollments.service.ts',
    'src/clinics/patient-records.repository.ts',
  ],
  jest: { ...full.jest, configFile: 'jest.mutation-clinics.config.js' },
  timeoutMS: 20_000,
  htmlReporter: { fileName: 'reports/mutation-clinics/index.html' },
  jsonReporter: { fileName: 'reports/mutation-clinics/mutation.json' },
  tempDirName: '.stryker-tmp-clinics',
};
