import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { Clock, isUuid } from '../common/index.js';
import { DB, type Db, type PainScoreKind, type Tx } from '../database/index.js';

/** An enrolment as outcomes need it; found only within its clinic. */
export interface OutcomeEnrollment {
  id: string;
  subscriberId: string;
  clinicId: string | null;
  campaignId: string;
  timezone: string;
  externalId: string | null;
}

export interface StoredAnswer {
  kind: PainScoreKind;
  score: number;
  source: string;
  at: Date;
  deliveryId: string | null;
}

/** The check-in a one-tap link answers: its delivery, enrolment and clinic. */
export interface CheckInDelivery {
  deliveryId: string;
  enrollmentId: string;
  subscriberId: string;
  clinicId: string | null;
  channel: 'email' | 'sms';
}

/** One score of a clinic's patient, with when that patient's programme began. */
export interface ClinicScore {
  enrollmentId: string;
  externalId: string | null;
  kind: PainScoreKind;
  score: number;
  at: Date;
  startedAt: Date;
}

export type AnswerResult = 'recorded' | 'replaced' | 'unchanged';

/**
 * pain_scores (both scales) and what outcomes read around them. Every read of patient data
 * takes the clinic's id: a clinic sees its own enrolments only.
 */
@Injectable()
export class OutcomesRepository {
  constructor(
    @Inject(DB) private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async enrollment(clinicId: string, enrollmentId: string): Promise<OutcomeEnrollment | undefined> {
    if (!isUuid(clinicId) || !isUuid(enrollmentId)) return undefined;
    const row = await this.db
      .selectFrom('enrollments')
      .select(['id', 'subscriber_id', 'clinic_id', 'campaign_id', 'timezone', 'external_id'])
      .where('id', '=', enrollmentId)
      .where('clinic_id', '=', clinicId)
      .executeTakeFirst();
    return (
      row && {
        id: row.id,
        subscriberId: row.subscriber_id,
        clinicId: row.clinic_id,
        campaignId: row.campaign_id,
        timezone: row.timezone,
        externalId: row.external_id,
      }
    );
  }

  async clinicExists(clinicId: string): Promise<boolean> {
    if (!isUuid(clinicId)) return false;
    const row = await this.db
      .selectFrom('clinics')
      .select('id')
      .where('id', '=', clinicId)
      .executeTakeFirst();
    return Boolean(row);
  }

  /** One enrolment's answers, oldest first; the clinic's id is part of the filter. */
  async answers(clinicId: string, enrollmentId: string): Promise<StoredAnswer[]> {
    const rows = await this.db
      .selectFrom('pain_scores as p')
      .innerJoin('enrollments as e', 'e.id', 'p.enrollment_id')
      .select(['p.kind', 'p.score', 'p.source', 'p.created_at', 'p.delivery_id'])
      .where('p.enrollment_id', '=', enrollmentId)
      .where('e.clinic_id', '=', clinicId)
      .orderBy('p.created_at')
      .orderBy('p.id')
      .execute();
    return rows.map((r) => ({
      kind: r.kind,
      score: r.score,
      source: r.source,
      at: r.created_at,
      deliveryId: r.delivery_id,
    }));
  }

  /**
   * Every answer of the clinic's patients, with when each programme began (its first
   * delivery, else the enrolment itself).
   */
  async clinicAnswers(clinicId: string): Promise<ClinicScore[]> {
    const rows = await this.db
      .selectFrom('pain_scores as p')
      .innerJoin('enrollments as e', 'e.id', 'p.enrollment_id')
      .select([
        'p.enrollment_id',
        'e.external_id',
        'p.kind',
        'p.score',
        'p.created_at',
        sql<Date>`coalesce((SELECT min(d.created_at) FROM deliveries d WHERE d.enrollment_id = e.id), e.created_at)`.as(
          'started_at',
        ),
      ])
      .where('e.clinic_id', '=', clinicId)
      .orderBy('p.created_at')
      .orderBy('p.id')
      .execute();
    return rows.map((r) => ({
      enrollmentId: r.enrollment_id!,
      externalId: r.external_id,
      kind: r.kind,
      score: r.score,
      at: r.created_at,
      startedAt: r.started_at,
    }));
  }

  /** The delivery a check-in link names, with its enrolment and clinic. */
  async checkInDelivery(deliveryId: string): Promise<CheckInDelivery | undefined> {
    const row = await this.db
      .selectFrom('deliveries as d')
      .innerJoin('enrollments as e', 'e.id', 'd.enrollment_id')
      .select(['d.id', 'd.enrollment_id', 'd.channel', 'e.subscriber_id', 'e.clinic_id'])
      .where('d.id', '=', deliveryId)
      .executeTakeFirst();
    return (
      row && {
        deliveryId: row.id,
        enrollmentId: row.enrollment_id,
        subscriberId: row.subscriber_id,
        clinicId: row.clinic_id,
        channel: row.channel,
      }
    );
  }

  /** The answer already given to a check-in on this scale, if any. */
  async answerTo(deliveryId: string, kind: PainScoreKind): Promise<{ score: number } | undefined> {
    return this.db
      .selectFrom('pain_scores')
      .select('score')
      .where('delivery_id', '=', deliveryId)
      .where('kind', '=', kind)
      .executeTakeFirst();
  }

  /**
   * Stores an answer. One per check-in and scale (the unique index on delivery_id, kind): a
   * second, different answer replaces the first, the same answer again changes nothing. An
   * answer to no check-in (deliveryId null) is always a row of its own.
   */
  async saveAnswer(
    a: {
      kind: PainScoreKind;
      score: number;
      source: string;
      subscriberId: string;
      enrollmentId: string | null;
      clinicId: string | null;
      deliveryId: string | null;
      inboundMessageId?: string | null;
    },
    tx: Tx | Db = this.db,
  ): Promise<AnswerResult> {
    const now = this.clock.now();
    const row = await tx
      .insertInto('pain_scores')
      .values({
        kind: a.kind,
        score: a.score,
        source: a.source,
        subscriber_id: a.subscriberId,
        enrollment_id: a.enrollmentId,
        clinic_id: a.clinicId,
        delivery_id: a.deliveryId,
        inbound_message_id: a.inboundMessageId ?? null,
        created_at: now,
      })
      .onConflict((oc) =>
        oc
          .columns(['delivery_id', 'kind'])
          .doUpdateSet((eb) => ({
            score: eb.ref('excluded.score'),
            source: eb.ref('excluded.source'),
            inbound_message_id: eb.ref('excluded.inbound_message_id'),
            updated_at: now,
          }))
          .where('pain_scores.score', '<>', (eb) => eb.ref('excluded.score')),
      )
      .returning(sql<boolean>`xmax = 0`.as('inserted'))
      .executeTakeFirst();
    if (!row) return 'unchanged';
    return row.inserted ? 'recorded' : 'replaced';
  }

  /** What a webhook event says of an enrolment. */
  async enrollmentRef(
    enrollmentId: string,
    tx: Tx,
  ): Promise<{ externalId: string | null; campaignId: string } | undefined> {
    const row = await tx
      .selectFrom('enrollments')
      .select(['external_id', 'campaign_id'])
      .where('id', '=', enrollmentId)
      .executeTakeFirst();
    return row && { externalId: row.external_id, campaignId: row.campaign_id };
  }

  /** An enrolment's campaign and clinic, for a text reply's score. */
  async enrollmentForReply(
    enrollmentId: string,
    tx: Tx,
  ): Promise<{ campaignId: string; clinicId: string | null } | undefined> {
    const row = await tx
      .selectFrom('enrollments')
      .select(['campaign_id', 'clinic_id'])
      .where('id', '=', enrollmentId)
      .executeTakeFirst();
    return row && { campaignId: row.campaign_id, clinicId: row.clinic_id };
  }

  /** The last message that went out to this enrolment (sent or delivered), if any. */
  async lastSent(
    enrollmentId: string,
    tx: Tx,
  ): Promise<{ id: string; stepKey: string; channel: string; sentAt: Date } | undefined> {
    const row = await tx
      .selectFrom('deliveries')
      .select(['id', 'step_key', 'channel', 'sent_at'])
      .where('enrollment_id', '=', enrollmentId)
      .where('status', 'in', ['sent', 'delivered'])
      .where('sent_at', 'is not', null)
      .orderBy('sent_at', 'desc')
      .orderBy('step', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && { id: row.id, stepKey: row.step_key, channel: row.channel, sentAt: row.sent_at! };
  }
}
