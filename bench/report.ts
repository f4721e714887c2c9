import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Figure } from './harness.js';

export interface Report {
  startedAt: string;
  durationSeconds: number;
  machine: Record<string, unknown>;
  knobs: Record<string, unknown>;
  figures: (Figure & { ratio: number })[];
  notes: string[];
  /** Per phase, the costliest statements (pg_stat_statements, when loaded). */
  statements?: Record<string, unknown>;
  error?: string;
}

const format = (value: number, unit: string): string => {
  const digits = unit === 'ms' ? 2 : 0;
  const n = value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return `${n} ${unit}`;
};

export const withRatio = (f: Figure) => ({
  ...f,
  ratio: f.baseline === 0 ? Number.NaN : f.figure / f.baseline,
});

/** The table people read: what, figure, baseline, ratio (figure / baseline), what the baseline is. */
export function renderTable(report: Report): string {
  const rows = report.figures.map((f) => [
    f.what,
    format(f.figure, f.unit),
    format(f.baseline, f.unit),
    Number.isFinite(f.ratio) ? `${f.ratio.toFixed(2)}x` : '-',
    f.baselineWhat,
  ]);
  const head = ['what', 'figure', 'baseline', 'ratio', 'baseline is'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) =>
        i === 1 || i === 2 || i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!),
      )
      .join('  ')
      .trimEnd();
  const out = [
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    'knobs:',
    ...Object.entries(report.knobs).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
    '',
    'notes:',
    ...report.notes.map((n) => `  - ${n}`),
    `  - machine: ${JSON.stringify(report.machine)}`,
    `  - took ${report.durationSeconds.toFixed(1)} s`,
  ];
  for (const [phase, top] of Object.entries(report.statements ?? {})) {
    out.push('', `costliest statements, ${phase} (pg_stat_statements):`);
    for (const t of top as { totalMs: number; share: number; calls: number; query: string }[])
      out.push(
        `  ${String(t.totalMs).padStart(7)} ms ${(t.share * 100).toFixed(0).padStart(3)}%` +
          ` ${String(t.calls).padStart(8)} calls  ${t.query.slice(0, 110)}`,
      );
  }
  if (report.error) out.push('', `FAILED: ${report.error}`);
  return out.join('\n');
}

export function writeJson(path: string, report: Report): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}
