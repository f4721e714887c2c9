/**
 * OutcomesService: what the clinic dashboard shows of a patient's pain outcomes. Stable API;
 * every method takes the clinic's id, and another clinic's enrolment (or a malformed id)
 * throws NotFound (src/common/errors.ts), which answers 404.
 *
 *   forPatient(clinicId: string, enrollmentId: string): Promise<PatientOutcomes>
 *     baseline / latest: the enrolment's first and most recent 0-10 pain score ({at, score}),
 *     null without scores; change = latest - baseline (null with fewer than two scores);
 *     worsened: latest is 2+ points above baseline (worsening.ts); scores: every 0-10 score,
 *     oldest first ({at, score, source, checkIn}); rating: the latest global rating of change
 *     ({value -3..+3, label, at}) or null; chartSvg + chartTable: the line chart and its data.
 *
 *   forClinic(clinicId: string): Promise<ClinicOutcomes>
 *     patientsWithScores; patientsWithChange (two scores or more); medianChange (null when
 *     none); worsened: [{enrollmentId, externalId, baseline, latest, change, latestAt}], most
 *     worsened first; ratings: how many patients gave each rating of change (their latest);
 *     weeks: median score by week of programme with the number of patients; chartSvg +
 *     chartTable: that chart and its data.
 *
 * SVG strings are complete, escaped <svg> elements, safe to place in a page as they are.
 */
import { Injectable } from '@nestjs/common';
import { RATING_SCALE, ratingOf } from '../campaigns/index.js';
import { notFound } from '../common/index.js';
import { clinicChart, patientChart, type ChartTable, type WeekPoint } from './charts.js';
import { OutcomesRepository, type ClinicScore } from './outcomes.repository.js';
import { changeFromBaseline, median } from './worsening.js';

export interface PainPoint {
  at: Date;
  score: number;
}

export interface PatientOutcomes {
  enrollmentId: string;
  baseline: PainPoint | null;
  latest: PainPoint | null;
  change: number | null;
  worsened: boolean;
  /** 'sms' (text reply), 'email-link' or 'sms-link'; checkIn: it answered a check-in. */
  scores: { at: Date; score: number; source: string; checkIn: boolean }[];
  rating: { value: number; label: string; at: Date } | null;
  chartSvg: string;
  chartTable: ChartTable;
}

export interface WorsenedPatient {
  enrollmentId: string;
  externalId: string | null;
  baseline: number;
  latest: number;
  change: number;
  latestAt: Date;
}

export interface ClinicOutcomes {
  patientsWithScores: number;
  patientsWithChange: number;
  /** Median of (latest - baseline) over patients with two scores or more: below 0 is better. */
  medianChange: number | null;
  worsened: WorsenedPatient[];
  ratings: { value: number; label: string; patients: number }[];
  weeks: WeekPoint[];
  chartSvg: string;
  chartTable: ChartTable;
}

const WEEK_MS = 7 * 24 * 3600 * 1000;

@Injectable()
export class OutcomesService {
  constructor(private readonly repo: OutcomesRepository) {}

  async forPatient(clinicId: string, enrollmentId: string): Promise<PatientOutcomes> {
    const enrollment = await this.repo.enrollment(clinicId, enrollmentId);
    if (!enrollment) throw notFound(`No enrolment ${enrollmentId} in this clinic`);
    const answers = await this.repo.answers(clinicId, enrollment.id);
    const scores = answers
      .filter((a) => a.kind === 'nprs')
      .map((a) => ({ at: a.at, score: a.score, source: a.source, checkIn: a.deliveryId !== null }));
    const { baseline, latest, change, worsened } = changeFromBaseline(scores);
    const lastRating = answers.filter((a) => a.kind === 'groc').at(-1);
    const chart = patientChart({
      points: scores,
      timezone: enrollment.timezone,
      title: 'Pain between the shoulder blades',
      id: `pain-${enrollment.id}`,
    });
    return {
      enrollmentId: enrollment.id,
      baseline: baseline && { at: baseline.at, score: baseline.score },
      latest: latest && { at: latest.at, score: latest.score },
      change,
      worsened,
      scores,
      rating: lastRating
        ? { value: lastRating.score, label: ratingOf(lastRating.score)!.label, at: lastRating.at }
        : null,
      chartSvg: chart.svg,
      chartTable: chart.table,
    };
  }

  async forClinic(clinicId: string): Promise<ClinicOutcomes> {
    if (!(await this.repo.clinicExists(clinicId))) throw notFound(`No clinic ${clinicId}`);
    const byPatient = new Map<string, ClinicScore[]>();
    for (const a of await this.repo.clinicAnswers(clinicId)) {
      byPatient.set(a.enrollmentId, [...(byPatient.get(a.enrollmentId) ?? []), a]);
    }
    const changes: number[] = [];
    const worsened: WorsenedPatient[] = [];
    const latestRating = new Map<number, number>();
    const weekScores = new Map<number, number[]>();
    let patientsWithScores = 0;
    for (const [enrollmentId, answers] of byPatient) {
      const pain = answers.filter((a) => a.kind === 'nprs');
      const rating = answers.filter((a) => a.kind === 'groc').at(-1);
      if (rating) latestRating.set(rating.score, (latestRating.get(rating.score) ?? 0) + 1);
      if (pain.length === 0) continue;
      patientsWithScores++;
      const c = changeFromBaseline(pain);
      if (c.change !== null) changes.push(c.change);
      if (c.worsened) {
        worsened.push({
          enrollmentId,
          externalId: pain[0]!.externalId,
          baseline: c.baseline!.score,
          latest: c.latest!.score,
          change: c.change!,
          latestAt: c.latest!.at,
        });
      }
      // Each patient counts once a week: their last score of that week.
      const lastOfWeek = new Map<number, number>();
      for (const p of pain) lastOfWeek.set(weekOf(p), p.score);
      for (const [week, score] of lastOfWeek)
        weekScores.set(week, [...(weekScores.get(week) ?? []), score]);
    }
    const weeks = [...weekScores]
      .map(([week, s]) => ({ week, median: median(s)!, patients: s.length }))
      .sort((a, b) => a.week - b.week);
    const chart = clinicChart({ weeks, title: 'Pain by week of the programme', id: 'clinic-pain' });
    return {
      patientsWithScores,
      patientsWithChange: changes.length,
      medianChange: median(changes),
      worsened: worsened.sort(
        (a, b) => b.change - a.change || b.latestAt.getTime() - a.latestAt.getTime(),
      ),
      ratings: RATING_SCALE.map((r) => ({
        value: r.value,
        label: r.label,
        patients: latestRating.get(r.value) ?? 0,
      })),
      weeks,
      chartSvg: chart.svg,
      chartTable: chart.table,
    };
  }
}

/** Week of the programme a score falls in: 1 for its first seven days. */
function weekOf(s: { at: Date; startedAt: Date }): number {
  return Math.max(1, Math.floor((s.at.getTime() - s.startedAt.getTime()) / WEEK_MS) + 1);
}
