/**
 * The two scales a check-in asks, shared by the messages (which link every answer) and the
 * outcomes module (which stores and charts them). See docs/outcomes.md for their sources.
 */

/** 0-10 numeric pain rating scale (NPRS): the anchors the question states. */
export const PAIN_SCALE = {
  min: 0,
  max: 10,
  lowLabel: 'no pain',
  highLabel: 'worst pain imaginable',
} as const;

/** Every answer to the pain question, lowest first. */
export const PAIN_SCORES: readonly number[] = Array.from({ length: 11 }, (_v, i) => i);

/**
 * Global rating of change, 7 points, best first as the question lists it. Stored as `value`:
 * +3 much better .. -3 much worse, so "higher is better" and 0 is no change.
 */
export const RATING_SCALE = [
  { value: 3, key: 'much-better', label: 'Much better' },
  { value: 2, key: 'better', label: 'Better' },
  { value: 1, key: 'a-little-better', label: 'A little better' },
  { value: 0, key: 'about-the-same', label: 'About the same' },
  { value: -1, key: 'a-little-worse', label: 'A little worse' },
  { value: -2, key: 'worse', label: 'Worse' },
  { value: -3, key: 'much-worse', label: 'Much worse' },
] as const;

export type RatingAnswer = (typeof RATING_SCALE)[number];

/** The answer with this stored value, or undefined. */
export function ratingOf(value: number): RatingAnswer | undefined {
  return RATING_SCALE.find((r) => r.value === value);
}

/** The answer with this form key (`much-better`...), or undefined. */
export function ratingByKey(key: string): RatingAnswer | undefined {
  return RATING_SCALE.find((r) => r.key === key);
}
