// Jest's node environment, plus the bail Stryker cannot ask Jest for: once a test fails
// with a mutant active, the mutant is killed, so the rest of its tests are skipped, and the
// test files after it do not even start their apps (Jest runs no hooks of a file whose tests
// are all skipped). Outside Stryker it is the plain node environment.
const { TestEnvironment } = require('jest-environment-node');

/** Set by Stryker's jest runner around each mutant run (in this test-runner process). */
const ACTIVE_MUTANT = '__STRYKER_ACTIVE_MUTANT__';
/** The mutant a test has already failed under; survives across the test files of a run. */
let killed;

function skipAll(block) {
  for (const child of block.children) {
    if (child.type === 'describeBlock') skipAll(child);
    else child.mode = 'skip';
  }
}

class MutationEnvironment extends TestEnvironment {
  async handleTestEvent(event, state) {
    const mutant = process.env[ACTIVE_MUTANT];
    if (!mutant || killed !== mutant) {
      if (mutant && event.name === 'test_done' && event.test.errors.length > 0) killed = mutant;
      return;
    }
    if (event.name === 'run_start') skipAll(state.rootDescribeBlock);
    else if (event.name === 'test_start') event.test.mode = 'skip';
  }
}

module.exports = MutationEnvironment;
