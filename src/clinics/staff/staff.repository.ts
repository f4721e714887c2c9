import { Inject, Injectable } from '@nestjs/common';
import {
  DB,
  type Clinic,
  type Db,
  type StaffRole,
  type StaffUser,
  type Tx,
} from '../../database/index.js';

/** A live session with who it belongs to. */
export interface SessionRow {
  staff: StaffUser;
  clinic: Pick<Clinic, 'id' | 'name' | 'slug' | 'timezone'>;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
}

/**
 * Staff users, their one-time login links and their sessions. Links and session ids are
 * kept as SHA-256 hashes: the database alone signs nobody in.
 */
@Injectable()
export class StaffRepository {
  constructor(@Inject(DB) private readonly db: Db) {}

  /** Adds a staff user; an existing one (same clinic and email) comes back unchanged. */
  async add(
    clinicId: string,
    input: { email: string; name: string; role: StaffRole },
  ): Promise<{ user: StaffUser; created: boolean }> {
    const inserted = await this.db
      .insertInto('staff_users')
      .values({ clinic_id: clinicId, email: input.email, name: input.name, role: input.role })
      .onConflict((oc) => oc.columns(['clinic_id', 'email']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return { user: inserted, created: true };
    const existing = await this.db
      .selectFrom('staff_users')
      .selectAll()
      .where('clinic_id', '=', clinicId)
      .where('email', '=', input.email)
      .executeTakeFirstOrThrow();
    return { user: existing, created: false };
  }

  /** Brings back a removed user with the role asked for now. */
  async reinstate(id: string, input: { name: string; role: StaffRole }): Promise<StaffUser> {
    return this.db
      .updateTable('staff_users')
      .set({ disabled_at: null, name: input.name, role: input.role })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  list(clinicId: string): Promise<StaffUser[]> {
    return this.db
      .selectFrom('staff_users')
      .selectAll()
      .where('clinic_id', '=', clinicId)
      .orderBy('disabled_at', (o) => o.nullsFirst())
      .orderBy('name')
      .execute();
  }

  find(clinicId: string, id: string): Promise<StaffUser | undefined> {
    return this.db
      .selectFrom('staff_users')
      .selectAll()
      .where('clinic_id', '=', clinicId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  /** Every clinic account of an address that may sign in. */
  activeByEmail(email: string): Promise<(StaffUser & { clinic_name: string })[]> {
    return this.db
      .selectFrom('staff_users')
      .innerJoin('clinics', 'clinics.id', 'staff_users.clinic_id')
      .selectAll('staff_users')
      .select('clinics.name as clinic_name')
      .where('staff_users.email', '=', email)
      .where('staff_users.disabled_at', 'is', null)
      .execute();
  }

  /** The clinic admins who hear of red flags when the clinic set no alert address. */
  admins(clinicId: string): Promise<StaffUser[]> {
    return this.db
      .selectFrom('staff_users')
      .selectAll()
      .where('clinic_id', '=', clinicId)
      .where('role', '=', 'admin')
      .where('disabled_at', 'is', null)
      .execute();
  }

  /** Removes a user: their sessions end at once, and their unused links stop working. */
  async disable(clinicId: string, id: string, at: Date): Promise<StaffUser | undefined> {
    return this.db.transaction().execute(async (tx) => {
      const user = await tx
        .updateTable('staff_users')
        .set({ disabled_at: at })
        .where('clinic_id', '=', clinicId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      if (!user) return undefined;
      await tx
        .updateTable('staff_sessions')
        .set({ ended_at: at })
        .where('staff_user_id', '=', id)
        .where('ended_at', 'is', null)
        .execute();
      await tx.deleteFrom('login_tokens').where('staff_user_id', '=', id).execute();
      return user;
    });
  }

  /** Links sent to a user since `since`: a cap stops anyone mail-bombing a colleague. */
  async linksSince(staffUserId: string, since: Date): Promise<number> {
    const r = await this.db
      .selectFrom('login_tokens')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('staff_user_id', '=', staffUserId)
      .where('created_at', '>', since)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async addLoginToken(staffUserId: string, hash: Buffer, expiresAt: Date): Promise<void> {
    await this.db
      .insertInto('login_tokens')
      .values({ token_hash: hash, staff_user_id: staffUserId, expires_at: expiresAt })
      .execute();
  }

  /**
   * Uses a login link: one statement marks it used, so of two tabs (or a replay) racing,
   * exactly one gets the user. Undefined: unknown, used, expired, or its user removed.
   */
  async useLoginToken(tx: Tx, hash: Buffer, now: Date): Promise<StaffUser | undefined> {
    const used = await tx
      .updateTable('login_tokens')
      .set({ used_at: now })
      .where('token_hash', '=', hash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returning('staff_user_id')
      .executeTakeFirst();
    if (!used) return undefined;
    return tx
      .updateTable('staff_users')
      .set({ last_sign_in_at: now })
      .where('id', '=', used.staff_user_id)
      .where('disabled_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
  }

  /** How a link that did not work failed, for a page that says why. */
  async loginTokenState(hash: Buffer, now: Date): Promise<'unknown' | 'used' | 'expired' | 'ok'> {
    const t = await this.db
      .selectFrom('login_tokens')
      .select(['used_at', 'expires_at'])
      .where('token_hash', '=', hash)
      .executeTakeFirst();
    if (!t) return 'unknown';
    if (t.used_at) return 'used';
    return t.expires_at.getTime() <= now.getTime() ? 'expired' : 'ok';
  }

  async addSession(
    tx: Tx,
    staffUserId: string,
    hash: Buffer,
    now: Date,
    expiresAt: Date,
  ): Promise<void> {
    await tx
      .insertInto('staff_sessions')
      .values({
        id_hash: hash,
        staff_user_id: staffUserId,
        created_at: now,
        last_seen_at: now,
        expires_at: expiresAt,
      })
      .execute();
  }

  /** The session behind a cookie, if it is live and its user may still sign in. */
  async session(hash: Buffer, now: Date): Promise<SessionRow | undefined> {
    const row = await this.db
      .selectFrom('staff_sessions')
      .innerJoin('staff_users', 'staff_users.id', 'staff_sessions.staff_user_id')
      .innerJoin('clinics', 'clinics.id', 'staff_users.clinic_id')
      .selectAll('staff_users')
      .select([
        'staff_sessions.created_at as session_created_at',
        'staff_sessions.last_seen_at',
        'staff_sessions.expires_at',
        'clinics.name as clinic_name',
        'clinics.slug as clinic_slug',
        'clinics.timezone as clinic_timezone',
      ])
      .where('staff_sessions.id_hash', '=', hash)
      .where('staff_sessions.ended_at', 'is', null)
      .where('staff_sessions.expires_at', '>', now)
      .where('staff_users.disabled_at', 'is', null)
      .executeTakeFirst();
    if (!row) return undefined;
    const {
      session_created_at,
      last_seen_at,
      expires_at,
      clinic_name,
      clinic_slug,
      clinic_timezone,
      ...staff
    } = row;
    return {
      staff,
      clinic: {
        id: staff.clinic_id,
        name: clinic_name,
        slug: clinic_slug,
        timezone: clinic_timezone,
      },
      createdAt: session_created_at,
      lastSeenAt: last_seen_at,
      expiresAt: expires_at,
    };
  }

  /** Slides an idle session's end; at most once a minute per session. */
  async touchSession(hash: Buffer, now: Date, expiresAt: Date): Promise<void> {
    await this.db
      .updateTable('staff_sessions')
      .set({ last_seen_at: now, expires_at: expiresAt })
      .where('id_hash', '=', hash)
      .where('ended_at', 'is', null)
      .where('last_seen_at', '<', new Date(now.getTime() - 60_000))
      .execute();
  }

  async endSession(hash: Buffer, now: Date): Promise<boolean> {
    const r = await this.db
      .updateTable('staff_sessions')
      .set({ ended_at: now })
      .where('id_hash', '=', hash)
      .where('ended_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Housekeeping: links and sessions past their end are of no use to anyone. */
  async forgetExpired(now: Date): Promise<void> {
    const dayAgo = new Date(now.getTime() - 86_400_000);
    await this.db.deleteFrom('login_tokens').where('expires_at', '<', dayAgo).execute();
    await this.db
      .deleteFrom('staff_sessions')
      .where((eb) => eb.or([eb('expires_at', '<', dayAgo), eb('ended_at', '<', dayAgo)]))
      .execute();
  }

  /** Staff names for the audit log's "who". */
  names(ids: string[]): Promise<{ id: string; name: string; email: string }[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('staff_users')
      .select(['id', 'name', 'email'])
      .where('id', 'in', ids)
      .execute();
  }
}
