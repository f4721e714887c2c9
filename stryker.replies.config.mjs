// Mutation testing of the reply-reading modules only: npm run test:mutation:replies.
// They are pure functions with unit specs (jest.replies.config.js), so a run takes minutes,
// not the hour of the delivery core's run (stryker.config.mjs). Reports land in
// reports/mutation-replies/; the README's "Reading replies" section explains the survivors.

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: [
    'src/webhooks/inbound-intent.ts',
    'src/webhooks/reply-reading/*.ts',
    '!src/webhooks/reply-reading/*.spec.ts',
  ],
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: 'jest.replies.config.js',
    enableFindRelatedTests: false,
  },
  // NestJS 12 ships only ES modules: Jest runs in ESM mode.
  testRunnerNodeArgs: ['--experimental-vm-modules'],
  coverageAnalysis: 'perTest',
  // Most mutants here live in module-level tables and regular expressions (static): they
  // must run, not be ignored, or the score would say nothing about the patterns.
  ignoreStatic: false,
  // The machine has two cores and other runs share them.
  concurrency: 1,
  timeoutMS: 10_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation-replies/index.html' },
  jsonReporter: { fileName: 'reports/mutation-replies/mutation.json' },
  ignorePatterns: [
    'dist',
    'dist-bench',
    'var',
    'coverage',
    'reports',
    'bench',
    'test/chaos',
    '.stryker-tmp',
  ],
  checkers: [],
  cleanTempDir: true,
  tempDirName: '.stryker-tmp-replies',
};
