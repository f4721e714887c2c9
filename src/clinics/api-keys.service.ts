import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { Clock, notFound, isUuid } from '../common/index.js';
import type { ApiKey, ApiKeyScope } from '../database/index.js';
import { ClinicsRepository } from './clinics.repository.js';

export const API_KEY_SCOPES = [
  'enrollments:write',
  'enrollments:read',
  'import',
  'reports',
] as const satisfies readonly ApiKeyScope[];

/** sdk_live_<16 hex: the key's id>_<43 base64url: the secret>. */
const KEY_FORMAT = /^sdk_live_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
/** How long a rotated key keeps working, unless the rotation says otherwise. */
export const DEFAULT_OVERLAP_HOURS = 24;

const hash = (secret: string) => createHash('sha256').update(secret, 'utf8').digest();
/** Compared against when the id is unknown, so that a miss takes as long as a hit. */
const NO_KEY = hash('no such key');

/** Who is calling: the clinic of a valid key, and what the key may do. */
export interface ClinicCaller {
  clinicId: string;
  keyId: string;
  scopes: readonly ApiKeyScope[];
}

/** A key as lists show it: never the secret, nor its hash. */
export interface ApiKeyView {
  id: string;
  prefix: string;
  name: string | null;
  scopes: ApiKeyScope[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export type KeyCheck =
  | { ok: true; caller: ClinicCaller }
  | { ok: false; problem: 'malformed' | 'unknown' | 'revoked' | 'expired' };

export const viewOfKey = (k: ApiKey): ApiKeyView => ({
  id: k.id,
  prefix: `sdk_live_${k.id}`,
  name: k.name,
  scopes: k.scopes,
  createdAt: k.created_at.toISOString(),
  expiresAt: k.expires_at?.toISOString() ?? null,
  revokedAt: k.revoked_at?.toISOString() ?? null,
  lastUsedAt: k.last_used_at?.toISOString() ?? null,
});

/**
 * Clinic API keys: made here, shown once, stored as a SHA-256 of the secret (the secret is
 * 256 random bits, so a plain hash is enough), found by the id part and compared in
 * constant time.
 */
@Injectable()
export class ApiKeysService {
  private readonly logger = new Logger(ApiKeysService.name);

  constructor(
    private readonly clinics: ClinicsRepository,
    private readonly clock: Clock,
  ) {}

  async issue(
    clinicId: string,
    input: { name?: string | null; scopes?: ApiKeyScope[] },
  ): Promise<ApiKeyView & { apiKey: string }> {
    await this.clinicOrThrow(clinicId);
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const row = await this.clinics.insertKey({
      id,
      clinic_id: clinicId,
      name: input.name ?? null,
      secret_hash: hash(secret),
      scopes: [...new Set<ApiKeyScope>(input.scopes ?? ['enrollments:write', 'enrollments:read'])],
    });
    this.logger.log({ clinicId, keyId: id, scopes: row.scopes }, 'API key issued');
    return { ...viewOfKey(row), apiKey: `sdk_live_${id}_${secret}` };
  }

  async list(clinicId: string): Promise<ApiKeyView[]> {
    await this.clinicOrThrow(clinicId);
    return (await this.clinics.keysOf(clinicId)).map(viewOfKey);
  }

  async revoke(clinicId: string, keyId: string): Promise<ApiKeyView> {
    await this.clinicOrThrow(clinicId);
    const row = await this.clinics.revokeKey(clinicId, keyId);
    if (!row) throw notFound(`API key ${keyId} not found for clinic ${clinicId}`);
    this.logger.log({ clinicId, keyId }, 'API key revoked');
    return viewOfKey(row);
  }

  /**
   * A new key with the old one's name and scopes; the old one works `overlapHours` more
   * (0: stops now), so the clinic can switch without a gap.
   */
  async rotate(
    clinicId: string,
    keyId: string,
    overlapHours = DEFAULT_OVERLAP_HOURS,
  ): Promise<{ previous: ApiKeyView; next: ApiKeyView & { apiKey: string } }> {
    await this.clinicOrThrow(clinicId);
    const old = await this.clinics.findKey(keyId);
    if (!old || old.clinic_id !== clinicId || old.revoked_at)
      throw notFound(`API key ${keyId} not found for clinic ${clinicId}`);
    const at = new Date(this.clock.now().getTime() + overlapHours * 3600_000);
    const next = await this.issue(clinicId, { name: old.name, scopes: old.scopes });
    const previous = (await this.clinics.expireKey(clinicId, keyId, at))!;
    return { previous: viewOfKey(previous), next };
  }

  private async clinicOrThrow(clinicId: string): Promise<void> {
    if (!isUuid(clinicId) || !(await this.clinics.find(clinicId)))
      throw notFound(`clinic ${isUuid(clinicId) ? clinicId : '(malformed id)'} not found`);
  }

  /** Checks a presented key; records its use. */
  async check(presented: string): Promise<KeyCheck> {
    const m = KEY_FORMAT.exec(presented);
    if (!m) return { ok: false, problem: 'malformed' };
    const row = await this.clinics.findKey(m[1]!);
    const same = timingSafeEqual(hash(m[2]!), row ? row.secret_hash : NO_KEY);
    if (!row || !same) return { ok: false, problem: 'unknown' };
    const now = this.clock.now();
    if (row.revoked_at && row.revoked_at <= now) return { ok: false, problem: 'revoked' };
    if (row.expires_at && row.expires_at <= now) return { ok: false, problem: 'expired' };
    await this.clinics.touchKey(row.id, now);
    return { ok: true, caller: { clinicId: row.clinic_id, keyId: row.id, scopes: row.scopes } };
  }
}
