/**
 * What a one-tap check-in link answers: which scale, which check-in (the delivery that asked)
 * and, for a one-tap answer, the value. `value: null` opens a page that offers every answer
 * (the SMS's link to the rating of change).
 */
export interface OutcomeTarget {
  kind: 'nprs' | 'groc';
  deliveryId: string;
  value: number | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KIND_BYTE = { nprs: 1, groc: 2 } as const;
// Values are stored +16 so that the rating's -3..+3 fits a byte; 255 means "no value".
const NO_VALUE = 255;
const OFFSET = 16;

const inRange = (kind: OutcomeTarget['kind'], v: number) =>
  Number.isInteger(v) && (kind === 'nprs' ? v >= 0 && v <= 10 : v >= -3 && v <= 3);

/** 18 bytes: the kind, the delivery id's 16 bytes, the value. Refuses what could not decode. */
export function encodeOutcomeTarget(t: OutcomeTarget): Buffer {
  if (!UUID.test(t.deliveryId)) throw new Error('outcome target: deliveryId is not a uuid');
  if (t.value !== null && !inRange(t.kind, t.value)) {
    throw new Error(`outcome target: ${t.value} is not on the ${t.kind} scale`);
  }
  return Buffer.concat([
    Buffer.from([KIND_BYTE[t.kind]]),
    Buffer.from(t.deliveryId.replace(/-/g, ''), 'hex'),
    Buffer.from([t.value === null ? NO_VALUE : t.value + OFFSET]),
  ]);
}

/** The target, or null for anything encodeOutcomeTarget did not write. */
export function decodeOutcomeTarget(bytes: Buffer): OutcomeTarget | null {
  if (bytes.length !== 18) return null;
  const kind = bytes[0] === 1 ? 'nprs' : bytes[0] === 2 ? 'groc' : null;
  if (!kind) return null;
  const hex = bytes.subarray(1, 17).toString('hex');
  const deliveryId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const raw = bytes[17]!;
  const value = raw === NO_VALUE ? null : raw - OFFSET;
  if (value !== null && !inRange(kind, value)) return null;
  return { kind, deliveryId, value };
}
