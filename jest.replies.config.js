// The unit specs of the reply reader (classifyInbound, optOutIn and src/webhooks/reply-reading),
// for mutation testing: npm run test:mutation:replies (stryker.replies.config.mjs). Pure
// functions, no database or queue: the suite takes seconds. Everything else from jest.config.js.
import base from './jest.config.js';

export default {
  ...base,
  testMatch: [
    '<rootDir>/src/webhooks/inbound-intent.spec.ts',
    '<rootDir>/src/webhooks/reply-reading/*.spec.ts',
  ],
  // Another Stryker run's sandbox holds a second copy of package.json.
  modulePathIgnorePatterns: ['<rootDir>/.stryker-tmp'],
  maxWorkers: 1,
};
