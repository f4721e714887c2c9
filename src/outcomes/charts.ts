import { DateTime } from 'luxon';
import { changeFromBaseline, isWorse } from './worsening.js';

/**
 * Server-rendered SVG charts, written by hand: pure functions of their data, no dependency.
 * Readable without colour: each kind of point has its own marker shape, every point carries
 * its value as a label, reference lines are named in words, and the SVG has a <title> and
 * <desc>. Each chart comes with the same data as a table, for the page to show beside it.
 * All text is escaped.
 */

export interface ChartTable {
  caption: string;
  columns: string[];
  rows: string[][];
}

export interface Chart {
  svg: string;
  table: ChartTable;
}

export interface PatientChartPoint {
  at: Date;
  score: number;
  /** 'sms' (a text reply), 'email-link' or 'sms-link' (a one-tap page). */
  source: string;
}

export interface WeekPoint {
  /** Week of the programme, 1 = the first seven days. */
  week: number;
  median: number;
  /** Patients behind the median. */
  patients: number;
}

const W = 640;
const H = 320;
const PAD = { left: 44, right: 28, top: 64, bottom: 56 };
const PLOT_W = W - PAD.left - PAD.right;
const PLOT_H = H - PAD.top - PAD.bottom;
const INK = '#1f2937';
const MUTED = '#4b5563';
const LINE = '#0f766e';
const WORSE = '#8a1c12';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Text made safe for SVG (XML) content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const SOURCE_LABEL: Record<string, string> = {
  sms: 'text reply',
  'email-link': 'email link',
  'sms-link': 'link in a text',
};

/** How a score arrived, in words. */
export function sourceLabel(source: string): string {
  return SOURCE_LABEL[source] ?? source;
}

const y = (score: number) => PAD.top + ((10 - score) / 10) * PLOT_H;
const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
const idOf = (id: string) => id.replace(/[^A-Za-z0-9_-]/g, '') || 'chart';

function dayLabel(at: Date, timezone: string): string {
  const local = DateTime.fromJSDate(at, { zone: timezone });
  return (local.isValid ? local : DateTime.fromJSDate(at, { zone: 'UTC' })).toFormat('d LLL');
}

/** Marker shapes: a circle, a square, an upward triangle, a diamond. */
const shape = {
  circle: (x: number, cy: number, fill: string) =>
    `<circle cx="${x}" cy="${cy}" r="6" fill="${fill}" stroke="#fff" stroke-width="1.5"/>`,
  square: (x: number, cy: number, fill: string) =>
    `<rect x="${x - 6}" y="${cy - 6}" width="12" height="12" fill="${fill}" stroke="#fff" stroke-width="1.5"/>`,
  triangle: (x: number, cy: number, fill: string) =>
    `<path d="M${x} ${cy - 8} L${x + 8} ${cy + 6} L${x - 8} ${cy + 6} Z" fill="${fill}" stroke="#fff" stroke-width="1.5"/>`,
  diamond: (x: number, cy: number, fill: string) =>
    `<path d="M${x} ${cy - 8} L${x + 8} ${cy} L${x} ${cy + 8} L${x - 8} ${cy} Z" fill="${fill}" stroke="#fff" stroke-width="1.5"/>`,
};

function frame(id: string, title: string, desc: string, body: string[]): string {
  const i = idOf(id);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-labelledby="${i}-title ${i}-desc" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif" font-size="13">`,
    `<title id="${i}-title">${escapeXml(title)}</title>`,
    `<desc id="${i}-desc">${escapeXml(desc)}</desc>`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
  ].join('\n');
}

/** The 0-10 axis: grid lines every 2 points, labelled, and the axis named. */
function scoreAxis(axisName: string): string[] {
  const out: string[] = [];
  for (let s = 0; s <= 10; s += 2) {
    out.push(
      `<line x1="${PAD.left}" y1="${y(s)}" x2="${W - PAD.right}" y2="${y(s)}" stroke="#e5e7eb" stroke-width="1"/>`,
      `<text x="${PAD.left - 8}" y="${y(s) + 4}" text-anchor="end" fill="${MUTED}">${s}</text>`,
    );
  }
  out.push(
    `<text x="${PAD.left}" y="${PAD.top - 14}" fill="${MUTED}">${escapeXml(axisName)}</text>`,
  );
  return out;
}

function legend(items: { draw: (x: number, cy: number) => string; text: string }[]): string[] {
  let x = PAD.left + 8;
  const out: string[] = [];
  for (const item of items) {
    out.push(
      item.draw(x, 18),
      `<text x="${x + 14}" y="22" fill="${INK}">${escapeXml(item.text)}</text>`,
    );
    x += 36 + item.text.length * 7;
  }
  return out;
}

/** Horizontal positions for `n` points: by time when times differ, else evenly spaced. */
function xPositions(times: number[]): number[] {
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  if (times.length === 1) return [PAD.left + PLOT_W / 2];
  if (t1 === t0) return times.map((_t, i) => PAD.left + (i / (times.length - 1)) * PLOT_W);
  return times.map((t) => PAD.left + ((t - t0) / (t1 - t0)) * PLOT_W);
}

/** Which of `n` points get an axis label: all up to 10, else about 8 spread evenly. */
function labelled(n: number): (i: number) => boolean {
  if (n <= 10) return () => true;
  const every = Math.ceil(n / 8);
  return (i) => i % every === 0 || i === n - 1;
}

/**
 * One patient's pain scores over time. Markers: a circle for a text reply, a square for a
 * tapped link, a triangle for a score 2 or more points above the baseline (the first score),
 * with the baseline and that threshold drawn as named lines.
 */
export function patientChart(input: {
  points: readonly PatientChartPoint[];
  timezone: string;
  title: string;
  id?: string;
}): Chart {
  const id = input.id ?? 'pain-chart';
  const points = [...input.points].sort((a, b) => a.at.getTime() - b.at.getTime());
  const { baseline, latest, change } = changeFromBaseline(points);
  const base = baseline?.score ?? null;
  const worse = (p: PatientChartPoint, i: number) =>
    i > 0 && base !== null && isWorse(base, p.score);
  const table: ChartTable = {
    caption: `${input.title}: pain scores, 0 (no pain) to 10 (worst imaginable)`,
    columns: ['Date', 'Pain (0-10)', 'Change from baseline', 'How it arrived'],
    rows: points.map((p, i) => [
      dayLabel(p.at, input.timezone),
      String(p.score),
      i === 0 ? 'baseline' : signed(p.score - base!) + (worse(p, i) ? ' (worse by 2 or more)' : ''),
      sourceLabel(p.source),
    ]),
  };
  if (points.length === 0) {
    return {
      svg: frame(id, input.title, 'No pain scores yet.', [
        ...scoreAxis('Pain, 0 (none) to 10 (worst imaginable)'),
        `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" fill="${INK}">No pain scores yet</text>`,
      ]),
      table,
    };
  }
  const xs = xPositions(points.map((p) => p.at.getTime()));
  const showDate = labelled(points.length);
  const body: string[] = [
    ...legend([
      { draw: (x, cy) => shape.circle(x, cy, LINE), text: 'text reply' },
      { draw: (x, cy) => shape.square(x, cy, LINE), text: 'email or page link' },
      { draw: (x, cy) => shape.triangle(x, cy, WORSE), text: '2+ points above baseline' },
    ]),
    ...scoreAxis('Pain, 0 (none) to 10 (worst imaginable)'),
    `<line x1="${PAD.left}" y1="${y(base!)}" x2="${W - PAD.right}" y2="${y(base!)}" stroke="${MUTED}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    `<text x="${W - PAD.right}" y="${y(base!) + 16}" text-anchor="end" fill="${MUTED}">baseline ${base}</text>`,
  ];
  if (base! + 2 <= 10) {
    body.push(
      `<line x1="${PAD.left}" y1="${y(base! + 2)}" x2="${W - PAD.right}" y2="${y(base! + 2)}" stroke="${WORSE}" stroke-width="1.5" stroke-dasharray="2 3"/>`,
      `<text x="${W - PAD.right}" y="${y(base! + 2) - 6}" text-anchor="end" fill="${WORSE}">worse by 2: ${base! + 2}</text>`,
    );
  }
  body.push(
    `<polyline points="${points.map((p, i) => `${xs[i]},${y(p.score)}`).join(' ')}" fill="none" stroke="${LINE}" stroke-width="2"/>`,
  );
  points.forEach((p, i) => {
    const x = xs[i]!;
    const cy = y(p.score);
    body.push(
      worse(p, i)
        ? shape.triangle(x, cy, WORSE)
        : p.source === 'sms'
          ? shape.circle(x, cy, LINE)
          : shape.square(x, cy, LINE),
      `<text x="${x}" y="${cy - 12}" text-anchor="middle" font-weight="700" fill="${INK}">${p.score}</text>`,
    );
    if (showDate(i)) {
      body.push(
        `<text x="${x}" y="${H - PAD.bottom + 20}" text-anchor="middle" fill="${MUTED}">${escapeXml(dayLabel(p.at, input.timezone))}</text>`,
      );
    }
  });
  const span = `${dayLabel(points[0]!.at, input.timezone)} to ${dayLabel(latest!.at, input.timezone)}`;
  const desc =
    `${points.length} pain score${points.length === 1 ? '' : 's'} from ${span}, 0 (no pain) to 10 (worst imaginable). ` +
    `Baseline ${base}, latest ${latest!.score}` +
    (change === null
      ? '.'
      : `: ${change > 0 ? 'worse' : change < 0 ? 'better' : 'no change'}${change === 0 ? '' : ` by ${Math.abs(change)}`}.`);
  return { svg: frame(id, input.title, desc, body), table };
}

/**
 * A clinic's patients by week of their programme: the median pain score of the patients who
 * answered that week (each patient's last score in it), labelled with how many they were.
 */
export function clinicChart(input: {
  weeks: readonly WeekPoint[];
  title: string;
  id?: string;
}): Chart {
  const id = input.id ?? 'clinic-chart';
  const weeks = [...input.weeks].sort((a, b) => a.week - b.week);
  const table: ChartTable = {
    caption: `${input.title}: median pain score (0-10) by week of the programme`,
    columns: ['Week', 'Median pain (0-10)', 'Patients'],
    rows: weeks.map((w) => [String(w.week), fmt(w.median), String(w.patients)]),
  };
  const axis = scoreAxis('Median pain, 0 (none) to 10 (worst imaginable)');
  if (weeks.length === 0) {
    return {
      svg: frame(id, input.title, 'No pain scores yet.', [
        ...axis,
        `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" fill="${INK}">No pain scores yet</text>`,
      ]),
      table,
    };
  }
  const first = weeks[0]!.week;
  const last = weeks[weeks.length - 1]!.week;
  const x = (week: number) =>
    first === last ? PAD.left + PLOT_W / 2 : PAD.left + ((week - first) / (last - first)) * PLOT_W;
  const body: string[] = [
    ...legend([
      {
        draw: (cx, cy) => shape.diamond(cx, cy, LINE),
        text: 'median of the patients who answered (n)',
      },
    ]),
    ...axis,
    `<polyline points="${weeks.map((w) => `${x(w.week)},${y(w.median)}`).join(' ')}" fill="none" stroke="${LINE}" stroke-width="2"/>`,
  ];
  for (const w of weeks) {
    const cx = x(w.week);
    body.push(
      shape.diamond(cx, y(w.median), LINE),
      `<text x="${cx}" y="${y(w.median) - 12}" text-anchor="middle" font-weight="700" fill="${INK}">${fmt(w.median)}</text>`,
      `<text x="${cx}" y="${H - PAD.bottom + 20}" text-anchor="middle" fill="${MUTED}">week ${w.week}</text>`,
      `<text x="${cx}" y="${H - PAD.bottom + 38}" text-anchor="middle" fill="${MUTED}">n=${w.patients}</text>`,
    );
  }
  const desc =
    `Median pain score by week of the programme, weeks ${first} to ${last}: ` +
    weeks
      .map(
        (w) =>
          `week ${w.week} ${fmt(w.median)} (${w.patients} patient${w.patients === 1 ? '' : 's'})`,
      )
      .join(', ') +
    '.';
  return { svg: frame(id, input.title, desc, body), table };
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}
