import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * scripts/cli.mjs (what `npm run cli` runs) in a project of the test's own, whose "build" is a
 * small script that copies src/cli/cli.ts to dist/cli/cli.js and counts its runs: the real
 * tsc takes ten seconds, and what is under test is when the launcher builds, not tsc.
 */
const dir = mkdtempSync(join(tmpdir(), 'sd-cli-launcher-'));
const at = (...p: string[]) => join(dir, ...p);
const COMPILED = at('dist', 'cli', 'cli.js');

const FAKE_BUILD = `
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
appendFileSync('builds.log', 'build\\n');
const source = readFileSync('src/cli/cli.ts', 'utf8');
mkdirSync('dist/cli', { recursive: true });
writeFileSync('dist/cli/cli.js', source); // written even on failure, as tsc does
if (source.includes('BROKEN')) { console.log('src/cli/cli.ts: error TS1005'); process.exit(2); }
`;

const cliSource = (version: string) =>
  `console.log(JSON.stringify({ version: '${version}', args: process.argv.slice(2) }));\n`;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['scripts/cli.mjs', ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const builds = () => readFileSync(at('builds.log'), 'utf8').split('\n').filter(Boolean).length;
/**
 * Date every source two minutes back and the build one minute back, so that the next file
 * saved is the only one newer than the build.
 */
function settle() {
  const old = new Date(Date.now() - 120_000);
  const walk = (path: string) => {
    if (statSync(path).isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
    utimesSync(path, old, old);
  };
  for (const f of ['src', 'tsconfig.json', 'tsconfig.build.json']) walk(at(f));
  const built = new Date(Date.now() - 60_000);
  utimesSync(COMPILED, built, built);
}

beforeAll(() => {
  mkdirSync(at('scripts'));
  mkdirSync(at('src', 'cli'), { recursive: true });
  copyFileSync(join(process.cwd(), 'scripts', 'cli.mjs'), at('scripts', 'cli.mjs'));
  writeFileSync(
    at('package.json'),
    JSON.stringify({ type: 'module', scripts: { build: 'node build.mjs' } }),
  );
  writeFileSync(at('build.mjs'), FAKE_BUILD);
  writeFileSync(at('builds.log'), '');
  writeFileSync(at('tsconfig.json'), '{}');
  writeFileSync(at('tsconfig.build.json'), '{}');
  writeFileSync(at('src', 'cli', 'cli.ts'), cliSource('v1'));
  writeFileSync(at('src', 'old.ts'), 'export {};\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run cli (scripts/cli.mjs)', () => {
  it('builds when there is no build, and keeps stdout for the answer', () => {
    const r = cli('campaigns', '--x');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ version: 'v1', args: ['campaigns', '--x'] });
    expect(r.stderr).toMatch(/building/);
    expect(builds()).toBe(1);
  });

  it('does not build again when nothing changed', () => {
    const before = statSync(COMPILED).mtimeMs;
    for (let i = 0; i < 2; i++) {
      const r = cli('campaigns');
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(r.stdout)).toMatchObject({ version: 'v1' });
    }
    expect(builds()).toBe(1);
    expect(statSync(COMPILED).mtimeMs).toBe(before);
  });

  it('builds again when a source file changed, and runs the new code', () => {
    settle();
    writeFileSync(at('src', 'cli', 'cli.ts'), cliSource('v2'));
    expect(JSON.parse(cli('enroll').stdout)).toMatchObject({ version: 'v2', args: ['enroll'] });
    expect(builds()).toBe(2);
    expect(JSON.parse(cli('enroll').stdout)).toMatchObject({ version: 'v2' });
    expect(builds()).toBe(2);
  });

  it('builds again when a tsconfig changed or a source file was deleted', () => {
    settle();
    writeFileSync(at('tsconfig.build.json'), '{ "compilerOptions": {} }');
    cli();
    expect(builds()).toBe(3);

    settle();
    rmSync(at('src', 'old.ts'));
    cli();
    expect(builds()).toBe(4);
  });

  it('ignores unit specs, which the build leaves out', () => {
    writeFileSync(at('src', 'cli', 'cli.spec.ts'), '// a test\n');
    settle();
    writeFileSync(at('src', 'cli', 'cli.spec.ts'), '// a test, edited\n');
    const before = builds();
    cli();
    expect(builds()).toBe(before);
  });

  it('fails when the build fails, and builds again on the next call', () => {
    settle();
    writeFileSync(at('src', 'cli', 'cli.ts'), `${cliSource('v3')}// BROKEN\n`);
    const failed = cli('campaigns');
    expect(failed.code).toBe(2);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toContain('error TS1005');
    expect(failed.stderr).toContain('cli: the build failed');
    const before = builds();

    // Nothing saved since, but the failed output is not trusted: it builds (and fails) again.
    expect(cli('campaigns').code).toBe(2);
    expect(builds()).toBe(before + 1);

    writeFileSync(at('src', 'cli', 'cli.ts'), cliSource('v3'));
    expect(JSON.parse(cli('campaigns').stdout)).toMatchObject({ version: 'v3' });
    expect(builds()).toBe(before + 2);
  });
});
