import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { EmailChannel } from '../../channels/index.js';
import {
  Clock,
  escapeHtml,
  conflict,
  invalid,
  maskAddress,
  notFound,
  safeError,
  isUuid,
} from '../../common/index.js';
import { CONFIG, type AppConfig } from '../../config/index.js';
import { Transactions, type StaffRole, type StaffUser } from '../../database/index.js';
import { ClinicsRepository } from '../clinics.repository.js';
import { AuditService, type AuditActor } from './audit.service.js';
import { Csrf } from './csrf.js';
import { StaffRepository, type SessionRow } from './staff.repository.js';

/** How long an emailed sign-in link works. */
export const LOGIN_LINK_MINUTES = 15;
/** At most this many sign-in links per account and hour (an invitation counts too). */
export const LINKS_PER_HOUR = 5;
/** A session ends after this long without a request... */
export const SESSION_IDLE_HOURS = 8;
/** ...and in any case this long after sign-in. */
export const SESSION_MAX_HOURS = 24;

const EMAIL = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[^\s@<>()[\],;:"]+$/;

export const hashOf = (secret: string): Buffer => createHash('sha256').update(secret).digest();
const newSecret = (): string => randomBytes(32).toString('base64url');

/** A signed-in member of staff, as the dashboard sees them. */
export interface StaffCaller {
  staffUserId: string;
  clinicId: string;
  clinicName: string;
  clinicTimezone: string;
  name: string;
  email: string;
  role: StaffRole;
  /** For the forms of this session's pages. */
  csrf: string;
  /** The session's key for CSRF checks (its hash, hex). */
  sessionKey: string;
}

export interface StaffView {
  id: string;
  email: string;
  name: string;
  role: StaffRole;
  createdAt: string;
  lastSignInAt: string | null;
  disabledAt: string | null;
}

export const staffView = (u: StaffUser): StaffView => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  createdAt: u.created_at.toISOString(),
  lastSignInAt: u.last_sign_in_at?.toISOString() ?? null,
  disabledAt: u.disabled_at?.toISOString() ?? null,
});

/**
 * Staff sign-in: invitations, one-time links by email, sessions and sign-out. Nothing here
 * says whether an address has an account: asking for a link answers the same either way.
 */
@Injectable()
export class StaffAuthService {
  private readonly logger = new Logger(StaffAuthService.name);
  readonly csrf: Csrf;

  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly staff: StaffRepository,
    private readonly clinics: ClinicsRepository,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    private readonly email: EmailChannel,
    private readonly clock: Clock,
  ) {
    this.csrf = new Csrf(`${config.appSecret}:staff`);
  }

  /**
   * Invites someone to a clinic's dashboard (an operator, or a clinic admin): adds them and
   * emails a sign-in link. Inviting an existing member again sends a fresh link; a removed
   * one comes back with the role given.
   */
  async invite(
    clinicId: string,
    input: { email: string; name: string; role: StaffRole },
    by: AuditActor,
  ): Promise<{ staff: StaffView; created: boolean }> {
    const email = input.email.trim().toLowerCase();
    if (!EMAIL.test(email) || email.length > 254)
      throw invalid('email', 'must be an email address');
    const name = input.name.trim();
    if (name.length === 0 || name.length > 120)
      throw invalid('name', 'must be 1 to 120 characters');
    const clinic = await this.clinics.find(clinicId);
    if (!clinic) throw notFound(`clinic ${clinicId} not found`);
    const added = await this.staff.add(clinicId, { ...input, email, name });
    const created = added.created;
    let user = added.user;
    if (!created && user.disabled_at) user = await this.staff.reinstate(user.id, input);
    else if (!created && user.role !== input.role)
      throw conflict(
        `email: ${maskAddress(email)} is already on this clinic's staff as ${user.role}; remove them first to change the role`,
      );
    await this.audit.record({
      clinicId,
      actor: by,
      action: created ? 'staff.invited' : 'staff.invited-again',
      detail: { staffUserId: user.id, role: user.role },
    });
    await this.sendLink(user, clinic.name, 'invite');
    return { staff: staffView(user), created };
  }

  async list(clinicId: string): Promise<StaffView[]> {
    if (!(await this.clinics.find(clinicId))) throw notFound(`clinic ${clinicId} not found`);
    return (await this.staff.list(clinicId)).map(staffView);
  }

  /** Removes a member: their sessions end now. */
  async remove(clinicId: string, staffUserId: string, by: AuditActor): Promise<StaffView> {
    const user = isUuid(staffUserId)
      ? await this.staff.disable(clinicId, staffUserId, this.clock.now())
      : undefined;
    if (!user) throw notFound(`staff member ${staffUserId} not found`);
    await this.audit.record({
      clinicId,
      actor: by,
      action: 'staff.removed',
      detail: { staffUserId: user.id },
    });
    return staffView(user);
  }

  /**
   * Someone asked for a sign-in link: each clinic account of the address gets its own. The
   * sending happens after the answer, which is the same whether or not the address is known.
   */
  requestLink(rawEmail: string): void {
    const email = rawEmail.trim().toLowerCase();
    if (!EMAIL.test(email)) return;
    void (async () => {
      const accounts = await this.staff.activeByEmail(email);
      const hourAgo = new Date(this.clock.now().getTime() - 3_600_000);
      for (const a of accounts) {
        if ((await this.staff.linksSince(a.id, hourAgo)) >= LINKS_PER_HOUR) {
          this.logger.warn({ staffUserId: a.id }, 'sign-in link not sent: hourly limit reached');
          continue;
        }
        await this.sendLink(a, a.clinic_name, 'sign-in');
      }
      if (accounts.length === 0)
        this.logger.log({ to: maskAddress(email) }, 'sign-in link asked for an unknown address');
    })().catch((err: unknown) =>
      this.logger.error({ err: safeError(err) }, 'sign-in link could not be sent'),
    );
  }

  private async sendLink(
    user: StaffUser,
    clinicName: string,
    why: 'invite' | 'sign-in',
  ): Promise<void> {
    const token = newSecret();
    const now = this.clock.now();
    await this.staff.addLoginToken(
      user.id,
      hashOf(token),
      new Date(now.getTime() + LOGIN_LINK_MINUTES * 60_000),
    );
    const url = `${this.config.publicUrl}/clinic/sign-in/${token}`;
    const service = this.config.sender.name;
    const opening =
      why === 'invite'
        ? `You have been invited to ${clinicName}'s dashboard on ${service}, where the clinic follows its patients' self-care programme.`
        : `Here is your link to sign in to ${clinicName}'s dashboard on ${service}.`;
    const closing = `The link works once, for ${LOGIN_LINK_MINUTES} minutes. If it has run out, ask for a new one on the sign-in page: ${this.config.publicUrl}/clinic/sign-in. If you did not expect this email, you can ignore it; nobody can sign in without the link.`;
    const html = [
      `<p>Hello ${escapeHtml(user.name)},</p>`,
      `<p>${escapeHtml(opening)}</p>`,
      `<p><a href="${escapeHtml(url)}"><strong>Sign in to ${escapeHtml(clinicName)}</strong></a></p>`,
      `<p>${escapeHtml(closing)}</p>`,
    ].join('\n');
    const text = `Hello ${user.name},\n\n${opening}\n\nSign in: ${url}\n\n${closing}\n`;
    try {
      await this.email.send({
        to: user.email,
        subject: `Sign in to ${clinicName}`,
        html,
        text,
        reference: `login-${user.id}-${now.getTime()}`,
      });
      this.logger.log({ staffUserId: user.id, why }, 'sign-in link sent');
    } catch (err) {
      this.logger.error({ staffUserId: user.id, err: safeError(err) }, 'sign-in link not sent');
      throw err;
    }
  }

  /** Whether a link would still work: for the page that asks "sign in?" before using it. */
  linkState(token: string) {
    return this.staff.loginTokenState(hashOf(token), this.clock.now());
  }

  /**
   * Uses a link (once) and opens a session. Returns the new session's cookie value, or null
   * when the link is unknown, used or out of date.
   */
  async signIn(token: string): Promise<{ cookie: string; staff: StaffUser } | null> {
    const now = this.clock.now();
    const sessionId = newSecret();
    const user = await this.transactions.run(async (tx) => {
      const u = await this.staff.useLoginToken(tx, hashOf(token), now);
      if (!u) return undefined;
      await this.staff.addSession(tx, u.id, hashOf(sessionId), now, this.idleEnd(now, now));
      await this.audit.record(
        {
          clinicId: u.clinic_id,
          actor: { kind: 'staff', staffUserId: u.id },
          action: 'staff.signed-in',
        },
        tx,
      );
      return u;
    });
    if (!user) return null;
    this.logger.log({ staffUserId: user.id }, 'staff signed in');
    return { cookie: sessionId, staff: user };
  }

  /** The staff member behind a session cookie, or null (no session, ended, expired, removed). */
  async caller(cookie: string | undefined): Promise<StaffCaller | null> {
    if (!cookie || cookie.length > 100) return null;
    const hash = hashOf(cookie);
    const now = this.clock.now();
    const s: SessionRow | undefined = await this.staff.session(hash, now);
    if (!s) return null;
    if (now.getTime() - s.createdAt.getTime() > SESSION_MAX_HOURS * 3_600_000) return null;
    // At most once a minute, as touchSession's own filter has it: the row just read says
    // when it was last touched, so most requests need no second statement.
    if (now.getTime() - s.lastSeenAt.getTime() >= 60_000)
      await this.staff.touchSession(hash, now, this.idleEnd(now, s.createdAt));
    const sessionKey = hash.toString('hex');
    return {
      staffUserId: s.staff.id,
      clinicId: s.clinic.id,
      clinicName: s.clinic.name,
      clinicTimezone: s.clinic.timezone,
      name: s.staff.name,
      email: s.staff.email,
      role: s.staff.role,
      sessionKey,
      csrf: this.csrf.tokenFor(sessionKey),
    };
  }

  async signOut(cookie: string, caller: StaffCaller): Promise<void> {
    if (await this.staff.endSession(hashOf(cookie), this.clock.now()))
      await this.audit.record({
        clinicId: caller.clinicId,
        actor: { kind: 'staff', staffUserId: caller.staffUserId },
        action: 'staff.signed-out',
      });
  }

  forgetExpired(): Promise<void> {
    return this.staff.forgetExpired(this.clock.now());
  }

  private idleEnd(now: Date, createdAt: Date): Date {
    return new Date(
      Math.min(
        now.getTime() + SESSION_IDLE_HOURS * 3_600_000,
        createdAt.getTime() + SESSION_MAX_HOURS * 3_600_000,
      ),
    );
  }
}
