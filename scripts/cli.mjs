// `npm run cli`: runs the compiled CLI, and builds first only when the build is missing or
// older than a source file, so a call costs a second rather than a ten-second build.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const compiled = join(root, 'dist', 'cli', 'cli.js');

/** Newest change under src/: files and folders, so a deleted or renamed file counts too. */
function newestSource(dir) {
  let newest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts'))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function builtAt() {
  try {
    return statSync(compiled).mtimeMs;
  } catch {
    return -1;
  }
}

const sources = Math.max(
  newestSource(join(root, 'src')),
  ...['tsconfig.json', 'tsconfig.build.json'].map((f) => statSync(join(root, f)).mtimeMs),
);
if (builtAt() < sources) {
  console.error('cli: the sources changed since the last build; building (npm run build)');
  const started = new Date();
  // Build output goes to stderr: stdout is the command's answer (JSON for enroll).
  const build = spawnSync('npm', ['run', 'build', '--silent'], {
    cwd: root,
    stdio: ['ignore', 2, 2],
  });
  if (build.status === 0) {
    // Dated when the build began, so that a file saved while it ran counts as newer.
    utimesSync(compiled, started, started);
  } else {
    // tsc writes its output even when it reports errors: mark the build stale, so the next
    // call builds again instead of trusting it.
    if (builtAt() >= 0) utimesSync(compiled, 0, 0);
    console.error('cli: the build failed (above)');
    process.exit(build.status ?? 1);
  }
}
await import(pathToFileURL(compiled).href);
