// Mutation testing of the delivery and scheduling core: npm run test:mutation.
// Too slow for CI (the tests wait on real queues): run it before resolving changes to these
// files. Reports land in reports/mutation/. docs/mutation-testing.md explains the survivors.
//
// The line ranges below pick single functions out of larger files; they must follow the
// code when those files change (check with `grep -n` for the function names).

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: [
    'src/deliveries/deliveries.repository.ts',
    'src/delivery/send.processor.ts',
    'src/delivery/lease-resolver.ts',
    'src/scheduler/scheduler.service.ts',
    'src/scheduler/reconciler.service.ts',
    'src/enrollments/schedule.ts',
    // claimDue only
    'src/enrollments/enrollments.repository.ts:109-134',
    // classifySmtpError and its helper codeOfCause
    'src/channels/smtp-email.channel.ts:30-66',
    // classifyTwilioError
    'src/channels/twilio-sms.channel.ts:84-106',
  ],
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: 'jest.mutation.config.js',
    // Integration tests reach these files through the whole app: run the tests that cover
    // a mutant (per-test coverage), not the files that happen to import it.
    enableFindRelatedTests: false,
  },
  // NestJS 12 ships only ES modules: Jest runs in ESM mode.
  testRunnerNodeArgs: ['--experimental-vm-modules'],
  coverageAnalysis: 'perTest',
  // The app's background loops run between tests too, so most mutants here are "static" as
  // well as covered by tests; without this, each of those would run the whole suite. Mutants
  // that only module loading reaches (the TRANSITIONS table, SMS_WINDOW, the error-code sets)
  // are then reported as Ignored: see docs/mutation-testing.md for the run that covers them.
  ignoreStatic: true,
  concurrency: 2,
  // A mutant that stalls a queue makes a test wait for its waitFor (20 s) or Jest's 60 s
  // timeout; give the run room to end on its own so afterAll drops its database and keys.
  timeoutMS: 60_000,
  timeoutFactor: 1.5,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  ignorePatterns: ['dist', 'dist-bench', 'var', 'coverage', 'reports', 'bench', 'test/chaos'],
  checkers: [],
  cleanTempDir: true,
  tempDirName: '.stryker-tmp',
};
