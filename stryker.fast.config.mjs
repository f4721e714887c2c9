// npm run test:mutation:fast: the same mutants as stryker.config.mjs, killed only by the
// targeted tests (jest.mutation-fast.config.js). Minutes instead of hours.
import full from './stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...full,
  jest: { ...full.jest, configFile: 'jest.mutation-fast.config.js' },
  timeoutMS: 20_000,
  htmlReporter: { fileName: 'reports/mutation-fast/index.html' },
  jsonReporter: { fileName: 'reports/mutation-fast/mutation.json' },
  tempDirName: '.stryker-tmp-fast',
};
