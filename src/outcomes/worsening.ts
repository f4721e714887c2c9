/**
 * The worsening flag. A 0-10 pain score (NPRS) that has risen 2 points or more above the
 * patient's baseline is a change the patient is likely to feel: 2 points is the minimal
 * clinically important difference for the 0-10 NPRS (Childs et al. 2005, Spine 30:1331;
 * Ostelo et al. 2008, Spine 33:90). See docs/outcomes.md.
 */

/** Points above baseline that count as getting worse. */
export const WORSENING_POINTS = 2;

export interface ScorePoint {
  at: Date;
  score: number;
}

export interface ChangeFromBaseline<T extends ScorePoint = ScorePoint> {
  /** The enrolment's first score; null when there is none. */
  baseline: T | null;
  /** Its most recent score (the baseline itself when there is only one). */
  latest: T | null;
  /** latest - baseline: positive is worse; null with fewer than two scores. */
  change: number | null;
  /** The latest score is WORSENING_POINTS or more above the baseline. */
  worsened: boolean;
}

/** True when `score` is far enough above `baseline` to count as worse. */
export function isWorse(baseline: number, score: number): boolean {
  return score - baseline >= WORSENING_POINTS;
}

/**
 * Baseline, latest and the flag for one enrolment's pain scores, in any order: the earliest
 * is the baseline, the most recent the latest (ties keep the given order).
 */
export function changeFromBaseline<T extends ScorePoint>(
  scores: readonly T[],
): ChangeFromBaseline<T> {
  if (scores.length === 0) return { baseline: null, latest: null, change: null, worsened: false };
  const ordered = scores
    .map((s, i) => ({ s, i }))
    .sort((a, b) => a.s.at.getTime() - b.s.at.getTime() || a.i - b.i)
    .map((x) => x.s);
  const baseline = ordered[0]!;
  const latest = ordered[ordered.length - 1]!;
  if (ordered.length === 1) return { baseline, latest, change: null, worsened: false };
  const change = latest.score - baseline.score;
  return { baseline, latest, change, worsened: isWorse(baseline.score, latest.score) };
}

/** The median of some numbers (the mean of the middle two for an even count); null if none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
