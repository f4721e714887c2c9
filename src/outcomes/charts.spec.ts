import { describe, expect, it } from '@jest/globals';
import { clinicChart, escapeXml, patientChart } from './charts.js';

const at = (day: number) => new Date(Date.UTC(2026, 5, day, 12));

describe('the per-patient pain chart', () => {
  const chart = patientChart({
    points: [
      { at: at(1), score: 4, source: 'email-link' },
      { at: at(8), score: 5, source: 'sms' },
      { at: at(15), score: 7, source: 'sms' },
    ],
    timezone: 'Europe/London',
    title: 'Pain between the shoulder blades',
  });

  it('is one SVG with a title and a description that states the data', () => {
    expect(chart.svg.startsWith('<svg ')).toBe(true);
    expect(chart.svg.trim().endsWith('</svg>')).toBe(true);
    expect(chart.svg).toMatch(/role="img" aria-labelledby="pain-chart-title pain-chart-desc"/);
    expect(chart.svg).toContain(
      '<title id="pain-chart-title">Pain between the shoulder blades</title>',
    );
    expect(chart.svg).toMatch(
      /<desc id="pain-chart-desc">3 pain scores from 1 Jun to 15 Jun.*Baseline 4, latest 7: worse by 3\.<\/desc>/,
    );
  });

  it('tells points apart by shape, not colour: square for a link, circle for a text, triangle for 2+ above baseline', () => {
    // One of each in the plot, plus one of each in the legend.
    expect(chart.svg.match(/<rect x="[^"]+" y="[^"]+" width="12"/g)).toHaveLength(2);
    expect(chart.svg.match(/<circle /g)).toHaveLength(2);
    expect(chart.svg.match(/<path d="M[^"]+ L[^"]+ L[^"]+ Z"/g)).toHaveLength(2);
    expect(chart.svg).toContain('2+ points above baseline');
  });

  it('labels every point with its value, and the baseline and the threshold in words', () => {
    for (const v of ['4', '5', '7'])
      expect(chart.svg).toMatch(new RegExp(`font-weight="700"[^>]*>${v}</text>`));
    expect(chart.svg).toContain('>baseline 4</text>');
    expect(chart.svg).toContain('>worse by 2: 6</text>');
  });

  it('comes with the same data as a table', () => {
    expect(chart.table.columns).toEqual([
      'Date',
      'Pain (0-10)',
      'Change from baseline',
      'How it arrived',
    ]);
    expect(chart.table.rows).toEqual([
      ['1 Jun', '4', 'baseline', 'email link'],
      ['8 Jun', '5', '+1', 'text reply'],
      ['15 Jun', '7', '+3 (worse by 2 or more)', 'text reply'],
    ]);
  });

  it('says so when there are no scores', () => {
    const empty = patientChart({ points: [], timezone: 'UTC', title: 'Pain' });
    expect(empty.svg).toContain('No pain scores yet');
    expect(empty.table.rows).toEqual([]);
  });

  it('escapes every text it is given', () => {
    const hostile = patientChart({
      points: [{ at: at(1), score: 3, source: '<script>x</script>' }],
      timezone: 'UTC',
      title: '</title><script>alert("x")</script>&',
      id: '"><script>',
    });
    expect(hostile.svg).not.toContain('<script>');
    expect(hostile.svg).toContain(
      '&lt;/title&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;',
    );
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;',
    );
  });
});

describe('the clinic-wide chart', () => {
  const chart = clinicChart({
    weeks: [
      { week: 2, median: 4.5, patients: 8 },
      { week: 1, median: 6, patients: 12 },
    ],
    title: 'Pain by week <all patients>',
  });

  it('plots the median by week with diamonds, labelled with the value and the number of patients', () => {
    expect(chart.svg.match(/<path d="M[^"]+ L[^"]+ L[^"]+ L[^"]+ Z"/g)).toHaveLength(3); // 2 points + legend
    expect(chart.svg).toContain('>6</text>');
    expect(chart.svg).toContain('>4.5</text>');
    expect(chart.svg).toContain('>n=12</text>');
    expect(chart.svg).toContain('>week 2</text>');
    expect(chart.svg).toContain(
      '<title id="clinic-chart-title">Pain by week &lt;all patients&gt;</title>',
    );
    expect(chart.svg).toMatch(/week 1 6 \(12 patients\), week 2 4\.5 \(8 patients\)/);
  });

  it('comes with its table, week by week', () => {
    expect(chart.table.rows).toEqual([
      ['1', '6', '12'],
      ['2', '4.5', '8'],
    ]);
  });
});
