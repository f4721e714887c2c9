import { describe, expect, it } from '@jest/globals';
import { countSegments } from './sms-segments.js';

describe('countSegments in GSM-7', () => {
  it.each([
    [0, 1],
    [1, 1],
    [160, 1],
    [161, 2],
    [306, 2],
    [307, 3],
    [459, 3],
    [460, 4],
  ])('%i plain characters make %i segment(s)', (length, segments) => {
    const info = countSegments('a'.repeat(length));
    expect(info).toEqual({ encoding: 'GSM-7', units: length, segments, nonGsm: [] });
  });

  it('counts the whole basic set, accented letters, Greek capitals and newlines as one septet each', () => {
    const text = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./09:;<=>?¡AZÄÖÑÜ§¿azäöñüà';
    const info = countSegments(text);
    expect(info.encoding).toBe('GSM-7');
    expect(info.units).toBe([...text].length);
    expect(info.nonGsm).toEqual([]);
  });

  it.each(['^', '{', '}', '\\', '[', ']', '~', '|', '€'])(
    'counts the extension character %s as two septets',
    (ch) => {
      expect(countSegments(ch)).toEqual({ encoding: 'GSM-7', units: 2, segments: 1, nonGsm: [] });
      // 159 plain + one extension char = 161 septets: no longer fits one segment.
      expect(countSegments('a'.repeat(158) + ch).segments).toBe(1);
      expect(countSegments('a'.repeat(159) + ch)).toMatchObject({ units: 161, segments: 2 });
    },
  );

  it('counts a form feed as an extension character', () => {
    expect(countSegments('\f').units).toBe(2);
  });
});

describe('countSegments in UCS-2', () => {
  it.each([
    ['a right curly quote', '\u2019'],
    ['a left curly double quote', '\u201c'],
    ['an emoji', '🙂'],
    ['an en dash', '\u2013'],
    ['a lower-case c with cedilla', 'ç'],
  ])('switches to UCS-2 for %s', (_what, ch) => {
    const info = countSegments(`Don't stop ${ch}`);
    expect(info.encoding).toBe('UCS-2');
    expect(info.nonGsm).toEqual([ch]);
  });

  it.each([
    [70, 1],
    [71, 2],
    [134, 2],
    [135, 3],
    [201, 3],
    [202, 4],
  ])('%i UTF-16 units make %i segment(s)', (length, segments) => {
    const text = '\u2019' + 'a'.repeat(length - 1);
    expect(countSegments(text)).toEqual({
      encoding: 'UCS-2',
      units: length,
      segments,
      nonGsm: ['\u2019'],
    });
  });

  it('counts an emoji as two UTF-16 units', () => {
    const info = countSegments('🙂'.repeat(35));
    expect(info.units).toBe(70);
    expect(info.segments).toBe(1);
    expect(countSegments('🙂'.repeat(35) + 'a').segments).toBe(2);
  });

  it('lists each offending character once, in order of appearance', () => {
    const info = countSegments('It\u2019s \u201cgreat\u201d \u2019 🙂 ok');
    expect(info.nonGsm).toEqual(['\u2019', '\u201c', '\u201d', '🙂']);
  });

  it('turns a message that fits one GSM segment into several once a curly quote creeps in', () => {
    const plain = "Don't".padEnd(150, '.');
    expect(countSegments(plain)).toMatchObject({ encoding: 'GSM-7', segments: 1 });
    expect(countSegments(plain.replace("'", '\u2019'))).toMatchObject({
      encoding: 'UCS-2',
      segments: 3,
    });
  });
});
