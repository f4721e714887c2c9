// GSM 03.38 basic character set and the extension table (each extension char costs two septets).
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENDED = '^{}\\[~]|€\f';
const basic = new Set(GSM_BASIC);
const extended = new Set(GSM_EXTENDED);

export interface SegmentInfo {
  encoding: 'GSM-7' | 'UCS-2';
  /** Length in encoding units: septets for GSM-7, UTF-16 code units for UCS-2. */
  units: number;
  segments: number;
  /** Characters that forced UCS-2, if any. */
  nonGsm: string[];
}

/** Counts SMS segments the way carriers bill them (160/153 GSM-7, 70/67 UCS-2). */
export function countSegments(text: string): SegmentInfo {
  let septets = 0;
  const nonGsm: string[] = [];
  for (const ch of text) {
    if (basic.has(ch)) septets += 1;
    else if (extended.has(ch)) septets += 2;
    else nonGsm.push(ch);
  }
  if (nonGsm.length === 0) {
    return {
      encoding: 'GSM-7',
      units: septets,
      segments: septets <= 160 ? 1 : Math.ceil(septets / 153),
      nonGsm,
    };
  }
  const units = text.length; // UTF-16 code units
  return {
    encoding: 'UCS-2',
    units,
    segments: units <= 70 ? 1 : Math.ceil(units / 67),
    nonGsm: [...new Set(nonGsm)],
  };
}
