// Test files for one mutant: Stryker runs the tests that cover a mutant by passing their
// full names as --testNamePattern, but Jest would still load every test file (and with it
// the whole app, about 1.5 s a file) only to skip its tests. This sequencer keeps just the
// files whose describe titles begin one of those names. Without a pattern, all files run.
import { readFileSync } from 'node:fs';

const DESCRIBE = /\bdescribe(?:\.\w+)*\(\s*(['"`])((?:\\.|(?!\1).)*)\1/g;
const unescapeJs = (s) => s.replace(/\\(.)/g, '$1');

/** Full test names from Stryker's pattern: `(name1)|(name2)`, each regexp-escaped. */
export function testNamesOf(pattern) {
  if (!pattern || !pattern.startsWith('(') || !pattern.endsWith(')')) return null;
  return pattern
    .slice(1, -1)
    .split(/(?<!\\)\)\|\(/)
    .map((escaped) => escaped.replace(/\\(.)/g, '$1'));
}

export default class MutationSequencer {
  constructor({ globalConfig }) {
    this.names = testNamesOf(globalConfig?.testNamePattern);
  }

  titlesOf(path) {
    try {
      const source = readFileSync(path, 'utf8');
      return [...source.matchAll(DESCRIBE)].map((m) => unescapeJs(m[2]));
    } catch {
      return [];
    }
  }

  sort(tests) {
    // Fastest first: unit specs, then the targeted guards, then the integration suites. With
    // the bail in jest.mutation.environment.cjs, most mutants die before an app has started.
    const rank = (path) =>
      path.includes('/src/') ? 0 : path.endsWith('mutation-guards.test.ts') ? 1 : 2;
    const byPath = [...tests].sort(
      (a, b) => rank(a.path) - rank(b.path) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
    );
    if (!this.names) return byPath;
    const kept = byPath.filter((test) => {
      const titles = this.titlesOf(test.path);
      // A file without describe blocks cannot be judged: keep it.
      if (titles.length === 0) return true;
      return this.names.some((name) => titles.some((title) => name.startsWith(`${title} `)));
    });
    return kept.length > 0 ? kept : byPath;
  }

  allFailedTests(tests) {
    return tests;
  }

  shard(tests) {
    return tests;
  }

  cacheResults() {}
}
