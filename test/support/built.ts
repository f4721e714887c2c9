import { spawn, spawnSync } from 'node:child_process';

/**
 * Builds dist/ when it is missing or older than the sources, as `npm run cli` does
 * (scripts/cli.mjs decides; `help` then only prints the usage).
 */
export function ensureBuilt(): void {
  const r = spawnSync('node', ['scripts/cli.mjs', 'help'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed:\n${r.stderr}`);
}

export interface Exit {
  /** null when it was still running at the deadline (it is then killed). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a built entry point (`dist/main.js`, `dist/cli/cli.js`) until it exits, or kills it
 * after `timeoutMs`: a service that starts instead of refusing to is a failed test, not a hang.
 */
export function runBuilt(
  script: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', [script, ...args], {
      env: { ...process.env, NODE_OPTIONS: '', NODE_ENV: 'development', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? null : code, stdout, stderr });
    });
  });
}
