import { describe, expect, it } from '@jest/globals';
import { changeFromBaseline, isWorse, median, WORSENING_POINTS } from './worsening.js';

const day = (n: number) => new Date(Date.UTC(2026, 5, 1 + n));
const scores = (...values: number[]) => values.map((score, i) => ({ at: day(i), score }));

describe('the worsening flag (2 points above baseline, the NPRS MCID)', () => {
  it('is 2 points', () => {
    expect(WORSENING_POINTS).toBe(2);
  });

  it('flags a rise of exactly 2, and not a rise of 1', () => {
    expect(changeFromBaseline(scores(4, 6))).toMatchObject({ change: 2, worsened: true });
    expect(changeFromBaseline(scores(4, 5))).toMatchObject({ change: 1, worsened: false });
    expect(isWorse(4, 6)).toBe(true);
    expect(isWorse(4, 5)).toBe(false);
  });

  it('compares the latest score with the first, whatever came between', () => {
    expect(changeFromBaseline(scores(3, 8, 4))).toMatchObject({ change: 1, worsened: false });
    expect(changeFromBaseline(scores(3, 1, 5))).toMatchObject({ change: 2, worsened: true });
  });

  it('never flags an improvement or no change', () => {
    expect(changeFromBaseline(scores(7, 2))).toMatchObject({ change: -5, worsened: false });
    expect(changeFromBaseline(scores(5, 5))).toMatchObject({ change: 0, worsened: false });
  });

  it('takes the earliest score as the baseline, in whatever order they come', () => {
    const [a, b, c] = scores(2, 5, 9);
    const result = changeFromBaseline([c!, a!, b!]);
    expect(result.baseline).toBe(a);
    expect(result.latest).toBe(c);
    expect(result).toMatchObject({ change: 7, worsened: true });
  });

  it('has no change with one score or none', () => {
    expect(changeFromBaseline(scores(9))).toMatchObject({ change: null, worsened: false });
    expect(changeFromBaseline([])).toEqual({
      baseline: null,
      latest: null,
      change: null,
      worsened: false,
    });
  });
});

describe('median', () => {
  it('is the middle value, or the mean of the middle two', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });
});
