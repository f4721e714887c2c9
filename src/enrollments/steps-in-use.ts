import { sql, type Kysely } from 'kysely';
import type { StepInUse } from '../campaigns/index.js';
import type { Database } from '../database/index.js';

/**
 * What live enrolments (pending, active, paused) depend on in the templates: the step each
 * waits on, and the step of any message still queued or being sent. Checked against the
 * campaigns at start-up, so a change that would strand people is refused (see strandedBy).
 * One scan of each table, grouped: a few rows per campaign.
 */
export async function stepsInUse(db: Kysely<Database>): Promise<StepInUse[]> {
  const { rows } = await sql<{ campaign_id: string; step_key: string | null; n: number }>`
    SELECT campaign_id, step_key, count(DISTINCT id)::int AS n FROM (
      SELECT e.campaign_id, e.step_key, e.id FROM enrollments AS e
       WHERE e.status IN ('pending', 'active', 'paused')
      UNION ALL
      SELECT e.campaign_id, d.step_key, e.id FROM deliveries AS d
        JOIN enrollments AS e ON e.id = d.enrollment_id
       WHERE d.status IN ('queued', 'sending')
    ) AS uses
    GROUP BY campaign_id, step_key`.execute(db);
  return rows.map((r) => ({ campaignId: r.campaign_id, stepKey: r.step_key, enrollments: r.n }));
}
