import { Injectable, Logger } from '@nestjs/common';
import { WebhookOutboxRecords } from '../webhook-outbox/index.js';
import {
  AuditService,
  ClinicsRepository,
  PatientRecordsRepository,
  StaffRepository,
  type AuditActor,
} from '../clinics/index.js';
import { Clock, Forbidden, notFound, isUuid } from '../common/index.js';
import { Transactions, type Enrollment, type Subscriber, type Tx } from '../database/index.js';
import { DeliveriesRepository } from '../deliveries/index.js';
import { EnrollmentLifecycle, EnrollmentsRepository, LIVE_STATUSES } from '../enrollments/index.js';
import { SubscribersRepository } from '../subscribers/index.js';
import { InboundRepository } from '../webhooks/index.js';
import {
  addressView,
  auditView,
  deliveryView,
  enrollmentView,
  iso,
  painScoreView,
  triageView,
  type ClinicPatientExport,
  type DeliveryExport,
  type PersonExport,
} from './export-views.js';
import { OutcomeRecordsRepository } from './outcome-records.repository.js';

/** What an erasure did. Counts only: nothing in it names the person. */
export interface ErasureResult {
  /**
   * `person`: everything about the person is gone (no other programme had them).
   * `clinic`: the person is also another clinic's or the public programme's patient, so only
   * this clinic's part went (its enrolments, their deliveries, its scores, its consent
   * events, its triage items) and its audit rows were made anonymous.
   */
  scope: 'person' | 'clinic';
  /** Live enrolments stopped (through the lifecycle) before they were deleted. */
  enrollmentsStopped: number;
  enrollmentsDeleted: number;
  /** Addresses on the suppression list after the erasure (scope `person` only). */
  addressesSuppressed: number;
}

const isLive = (e: Enrollment) => (LIVE_STATUSES as readonly string[]).includes(e.status);
const unique = <T>(xs: T[]) => [...new Set(xs)];

/**
 * GDPR data rights for one patient: export everything (the operator) or what one clinic
 * holds (a clinic admin), and erasure. See docs/data-rights.md for what goes and what stays.
 */
@Injectable()
export class DataRightsService {
  private readonly logger = new Logger(DataRightsService.name);

  constructor(
    private readonly transactions: Transactions,
    private readonly clock: Clock,
    private readonly subscribers: SubscribersRepository,
    private readonly enrollments: EnrollmentsRepository,
    private readonly lifecycle: EnrollmentLifecycle,
    private readonly deliveries: DeliveriesRepository,
    private readonly inbound: InboundRepository,
    private readonly outcomes: OutcomeRecordsRepository,
    private readonly records: PatientRecordsRepository,
    private readonly clinics: ClinicsRepository,
    private readonly audit: AuditService,
    private readonly staff: StaffRepository,
    private readonly webhookRecords: WebhookOutboxRecords,
  ) {}

  /**
   * The operator's export: every row of the person `subscriberId` belongs to (all the
   * subscriber rows sharing its person id) and everything that hangs on them. 404 when
   * unknown. Each clinic of the person gets an audit row saying the operator exported.
   */
  async exportPerson(subscriberId: string): Promise<PersonExport> {
    const rows = await this.subscribers.samePerson(known(subscriberId));
    if (rows.length === 0) throw notFound(`subscriber ${subscriberId} not found`);
    const ids = rows.map((r) => r.id);
    const personId = rows[0]!.person_id;
    const phones = rows.map((r) => r.phone).filter((p): p is string => Boolean(p));
    const addresses = rows.flatMap((r) => [r.email, r.phone]).filter((a): a is string => !!a);
    const enrolments = await this.enrollments.forPersonOf(subscriberId);
    const eids = enrolments.map((e) => e.id);
    const [enrollments, consent, suppressions, inbound, scores, safety, triage, audit] =
      await Promise.all([
        this.enrollmentViews(enrolments),
        this.subscribers.consentEventsOf(ids),
        this.subscribers.suppressionsOf(addresses),
        this.inbound.ofPerson(ids, phones),
        this.outcomes.painScoresOf(ids, null),
        this.subscribers.safetyRecordsOf(personId),
        this.outcomes.triageItemsOf(ids, null),
        this.audit.aboutPatient(null, ids, eids),
      ]);
    for (const clinicId of unique(enrolments.map((e) => e.clinic_id))) {
      if (clinicId)
        await this.audit.record({
          clinicId,
          actor: { kind: 'operator' },
          action: 'patient.exported',
          subscriberId,
        });
    }
    return {
      exportedAt: this.clock.now().toISOString(),
      personId,
      addresses: rows.map(addressView),
      enrollments,
      consentEvents: consent.map((c) => ({
        subscriberId: c.subscriber_id,
        at: c.created_at.toISOString(),
        kind: c.kind,
        channel: c.channel,
        source: c.source,
        clinicId: c.clinic_id,
        textVersion: c.text_version,
        campaign: c.campaign_id,
        text: c.text,
        words: c.words,
        ip: c.ip,
        userAgent: c.user_agent,
        method: c.method,
        obtainedAt: iso(c.obtained_at),
        collectedBy: c.collected_by,
      })),
      suppressions: suppressions.map((s) => ({
        address: s.address,
        channel: s.channel,
        reason: s.reason,
        at: s.created_at.toISOString(),
      })),
      inboundMessages: inbound.map((m) => ({
        id: m.id,
        at: m.created_at.toISOString(),
        subscriberId: m.subscriber_id,
        fromPhone: m.from_phone,
        kind: m.kind,
        body: m.body,
      })),
      painScores: scores.map(painScoreView),
      safetyHold: {
        held: Boolean(safety.hold),
        since: iso(safety.hold?.created_at ?? null),
        signs: safety.hold?.signs ?? null,
        inboundMessageId: safety.hold?.inbound_message_id ?? null,
      },
      safetyEvents: safety.events.map((s) => ({
        id: s.id,
        at: s.created_at.toISOString(),
        subscriberId: s.subscriber_id,
        kind: s.kind,
        source: s.source,
        signs: s.signs,
        inboundMessageId: s.inbound_message_id,
        note: s.note,
      })),
      triageItems: triage.map(triageView),
      auditLog: audit.map(auditView),
    };
  }

  /**
   * A clinic admin's export of one patient (the dashboard's "Export" button).
   *
   * @param clinicId the signed-in clinic (from the session, never from the URL)
   * @param enrollmentId any of the clinic's enrolments of the patient
   * @param staffUserId who asked: when given, the export is recorded in the audit log
   * @returns what this clinic holds about the person (ClinicPatientExport): the addresses
   *   its own enrolments use, those enrolments with their deliveries, the consent events it
   *   may see (PatientRecordsRepository.consentEvents), its pain scores, triage items and
   *   audit rows. Nothing of another clinic or of the public programme.
   * @throws NotFound (404) for an unknown or malformed id, or another clinic's enrolment
   */
  async exportForClinic(
    clinicId: string,
    enrollmentId: string,
    staffUserId?: string,
  ): Promise<ClinicPatientExport> {
    const { clinic, anchor } = await this.clinicPatient(clinicId, enrollmentId);
    const person = await this.subscribers.samePerson(anchor.subscriber_id);
    const mine = (await this.enrollments.forPersonOf(anchor.subscriber_id)).filter(
      (e) => e.clinic_id === clinicId,
    );
    const rowIds = unique(mine.map((e) => e.subscriber_id));
    const eids = mine.map((e) => e.id);
    const consentOf = async (subscriberId: string) =>
      (
        await this.records.consentEvents(
          clinicId,
          mine.find((e) => e.subscriber_id === subscriberId)!,
        )
      ).map((c) => ({
        subscriberId,
        at: c.created_at.toISOString(),
        kind: c.kind,
        channel: c.channel,
        source: c.source,
        method: c.method,
        obtainedAt: iso(c.obtained_at),
        collectedBy: c.collected_by,
        text: c.text,
        words: c.words,
      }));
    const [enrollments, consent, scores, triage, audit] = await Promise.all([
      this.enrollmentViews(mine),
      Promise.all(rowIds.map(consentOf)),
      this.outcomes.painScoresOf(rowIds, clinicId),
      this.outcomes.triageItemsOf(rowIds, clinicId),
      this.audit.aboutPatient(clinicId, rowIds, eids),
    ]);
    if (staffUserId)
      await this.audit.record({
        clinicId,
        actor: { kind: 'staff', staffUserId },
        action: 'patient.exported',
        enrollmentId,
        subscriberId: anchor.subscriber_id,
      });
    return {
      exportedAt: this.clock.now().toISOString(),
      clinic: { id: clinic.id, name: clinic.name },
      addresses: person.filter((r) => rowIds.includes(r.id)).map(addressView),
      enrollments,
      consentEvents: consent.flat().sort((a, b) => a.at.localeCompare(b.at)),
      painScores: scores.map(painScoreView),
      triageItems: triage.map(triageView),
      auditLog: audit.map(auditView),
    };
  }

  /**
   * The operator erases a person: every subscriber row sharing the person id, and
   * everything about them, across every clinic. 404 when unknown. See erase().
   */
  async erasePerson(subscriberId: string): Promise<ErasureResult> {
    known(subscriberId);
    const result = await this.transactions.run(async (tx) => {
      const rows = await this.subscribers.lockPerson(tx, subscriberId);
      if (rows.length === 0) throw notFound(`subscriber ${subscriberId} not found`);
      return this.eraseWhole(tx, rows, { kind: 'operator' }, null);
    });
    this.logger.log({ by: 'operator', ...result }, 'patient erased');
    return result;
  }

  /**
   * A clinic admin erases a patient (the dashboard's "Erase" button).
   *
   * When every enrolment the person has (any status) is this clinic's, the whole person
   * goes, as with the operator's erasure, and their addresses stay suppressed. When the
   * person is also another clinic's or the public programme's, this clinic's part goes: its
   * enrolments are stopped through the lifecycle and deleted (with their deliveries and
   * triage items), its pain scores and consent events are deleted, its audit rows lose the
   * patient, and a `withdrawn` consent event of the clinic (source `erasure`) stays so that
   * the clinic cannot enrol them again by its own word (API, import); the person still can.
   *
   * @param clinicId the signed-in clinic (from the session)
   * @param enrollmentId any of the clinic's enrolments of the patient
   * @param staffUserId the signed-in member of staff: must be an active admin of the clinic
   * @returns counts only (ErasureResult)
   * @throws NotFound (404) for an unknown, malformed or another clinic's enrolment;
   *   Forbidden (403) when the member of staff is not an active admin of this clinic
   */
  async eraseForClinic(
    clinicId: string,
    enrollmentId: string,
    staffUserId: string,
  ): Promise<ErasureResult> {
    const { anchor } = await this.clinicPatient(clinicId, enrollmentId);
    const who = isUuid(staffUserId) ? await this.staff.find(clinicId, staffUserId) : undefined;
    if (!who || who.disabled_at || who.role !== 'admin')
      throw new Forbidden('only an admin of this clinic may erase a patient');
    const actor: AuditActor = { kind: 'staff', staffUserId };
    const result = await this.transactions.run(async (tx) => {
      const rows = await this.subscribers.lockPerson(tx, anchor.subscriber_id);
      const all = await this.enrollments.forPersonOf(anchor.subscriber_id, tx);
      const mine = all.filter((e) => e.clinic_id === clinicId);
      if (mine.length === 0) throw notFound(`enrolment ${enrollmentId} not found`); // erased meanwhile
      if (mine.length === all.length) return this.eraseWhole(tx, rows, actor, clinicId);
      return this.eraseClinicPart(tx, rows, mine, clinicId, actor);
    });
    this.logger.log({ by: 'clinic', clinicId, ...result }, 'patient erased');
    return result;
  }

  /** Stops every live enrolment through the lifecycle (queued deliveries are skipped). */
  private async stopAll(tx: Tx, enrolments: Enrollment[]): Promise<number> {
    let stopped = 0;
    for (const e of enrolments.filter(isLive)) {
      const locked = await this.enrollments.lock(tx, e.id);
      if (!locked || !isLive(locked)) continue;
      await this.lifecycle.cancel(tx, locked, 'erased');
      stopped++;
    }
    return stopped;
  }

  private async eraseWhole(
    tx: Tx,
    rows: Subscriber[],
    actor: AuditActor,
    onlyClinic: string | null,
  ): Promise<ErasureResult> {
    const ids = rows.map((r) => r.id);
    const enrolments = await this.enrollments.forPersonOf(ids[0]!, tx);
    const eids = enrolments.map((e) => e.id);
    const stopped = await this.stopAll(tx, enrolments);
    // The minimal record that outlives the person: their addresses, never to be messaged
    // again by anyone's word but their own (START, or confirming a new signup).
    let suppressed = 0;
    for (const r of rows) {
      if (r.email) await this.subscribers.suppress(r.email, 'email', 'erased', tx);
      if (r.phone) await this.subscribers.suppress(r.phone, 'sms', 'erased', tx);
      suppressed += (r.email ? 1 : 0) + (r.phone ? 1 : 0);
    }
    await this.audit.scrubPatient(tx, null, ids, eids);
    const phones = rows.map((r) => r.phone).filter((p): p is string => Boolean(p));
    await this.inbound.deleteOfPerson(tx, ids, phones);
    await this.webhookRecords.forgetEnrollments(tx, eids);
    const deleted = await this.enrollments.deleteEnded(tx, eids);
    await this.subscribers.deletePerson(tx, rows[0]!.person_id);
    const clinics = onlyClinic ? [onlyClinic] : unique(enrolments.map((e) => e.clinic_id));
    for (const clinicId of clinics) {
      if (!clinicId) continue;
      await this.audit.record(
        {
          clinicId,
          actor,
          action: 'patient.erased',
          detail: {
            scope: 'person',
            enrollments: enrolments.filter((e) => e.clinic_id === clinicId).length,
          },
        },
        tx,
      );
    }
    return {
      scope: 'person',
      enrollmentsStopped: stopped,
      enrollmentsDeleted: deleted,
      addressesSuppressed: suppressed,
    };
  }

  private async eraseClinicPart(
    tx: Tx,
    rows: Subscriber[],
    mine: Enrollment[],
    clinicId: string,
    actor: AuditActor,
  ): Promise<ErasureResult> {
    const ids = rows.map((r) => r.id);
    const eids = mine.map((e) => e.id);
    const stopped = await this.stopAll(tx, mine);
    await this.audit.scrubPatient(tx, clinicId, ids, eids);
    await this.outcomes.deleteClinicPainScores(tx, ids, clinicId);
    await this.subscribers.deleteClinicConsent(tx, ids, clinicId);
    await this.webhookRecords.forgetEnrollments(tx, eids);
    const deleted = await this.enrollments.deleteEnded(tx, eids);
    // The clinic's word no longer enrols them (ClinicEnrollmentsService refuses an address
    // whose last event with the clinic is `withdrawn`); the person's own signup still does.
    for (const r of rows) {
      for (const channel of [r.email ? 'email' : null, r.phone ? 'sms' : null] as const) {
        if (channel)
          await this.subscribers.recordConsent(tx, {
            subscriberId: r.id,
            kind: 'withdrawn',
            channel,
            source: 'erasure',
            clinicId,
          });
      }
    }
    await this.audit.record(
      {
        clinicId,
        actor,
        action: 'patient.erased',
        detail: { scope: 'clinic', enrollments: mine.length },
      },
      tx,
    );
    return {
      scope: 'clinic',
      enrollmentsStopped: stopped,
      enrollmentsDeleted: deleted,
      addressesSuppressed: 0,
    };
  }

  /** The clinic and its enrolment `enrollmentId`, or 404 (unknown, malformed, another's). */
  private async clinicPatient(clinicId: string, enrollmentId: string) {
    const missing = () => notFound(`enrolment ${enrollmentId} not found`);
    if (!isUuid(clinicId) || !isUuid(enrollmentId)) throw missing();
    const [clinic, anchor] = await Promise.all([
      this.clinics.find(clinicId),
      this.records.find(clinicId, enrollmentId),
    ]);
    if (!clinic || !anchor) throw missing();
    return { clinic, anchor };
  }

  /** Enrolments with their clinic's name and their deliveries. */
  private async enrollmentViews(enrolments: Enrollment[]) {
    const deliveries = await this.deliveries.forEnrollments(enrolments.map((e) => e.id));
    const byEnrolment = new Map<string, DeliveryExport[]>();
    for (const d of deliveries) {
      const list = byEnrolment.get(d.enrollment_id) ?? [];
      list.push(deliveryView(d));
      byEnrolment.set(d.enrollment_id, list);
    }
    const names = new Map<string, string>();
    for (const id of unique(enrolments.map((e) => e.clinic_id))) {
      if (id) names.set(id, (await this.clinics.find(id))?.name ?? '');
    }
    return enrolments.map((e) =>
      enrollmentView(
        e,
        e.clinic_id ? { id: e.clinic_id, name: names.get(e.clinic_id) ?? '' } : null,
        byEnrolment.get(e.id) ?? [],
      ),
    );
  }
}

/** A malformed id is a person we do not have: 404, as for any unknown id. */
function known(id: string): string {
  if (!isUuid(id)) throw notFound('subscriber (malformed id) not found');
  return id;
}
