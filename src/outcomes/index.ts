export { OutcomesModule } from './outcomes.module.js';
export {
  OutcomesService,
  type ClinicOutcomes,
  type PainPoint,
  type PatientOutcomes,
  type WorsenedPatient,
} from './outcomes.service.js';
export { CheckInAnswers, SMS_ANSWER_WINDOW_MS } from './check-in-answers.service.js';
export {
  clinicChart,
  escapeXml,
  patientChart,
  sourceLabel,
  type Chart,
  type ChartTable,
  type PatientChartPoint,
  type WeekPoint,
} from './charts.js';
export { changeFromBaseline, isWorse, median, WORSENING_POINTS } from './worsening.js';
// Red-flag triage (the lead engineer's files).
export { TriageModule } from './triage.module.js';
export { TriageService, TRIAGE_OVERDUE_MS, signWords, type TriageView } from './triage.service.js';
export type { TriageRow } from './triage.repository.js';
