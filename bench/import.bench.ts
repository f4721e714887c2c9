import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { NestFactory } from '@nestjs/core';
import { sql } from 'kysely';
import { AppModule } from '../src/app.module.js';
import { ImportsProcessor, ImportsService } from '../src/clinics/index.js';
import { loadConfig } from '../src/config/index.js';
import type { BenchContext, Figure } from './harness.js';

const HEADER =
  'name,email,channel,timezone,sendTime,externalId,consentMethod,consentObtainedAt,consentCollectedBy\n';

/** A CSV of `n` rows made as it is read (never held whole), every 100th row bad. */
function csvOf(run: string, n: number): Readable {
  let i = 0;
  return new Readable({
    read() {
      if (i === 0) this.push(HEADER);
      let chunk = '';
      for (let k = 0; k < 500 && i < n; k++, i++) {
        const email = i % 100 === 99 ? 'not-an-email' : `imp-${run}-${i}@bench.example`;
        chunk += `Patient ${i},${email},email,America/New_York,08:00,ext-${i},written,2026-01-05T10:00:00Z,Front desk\n`;
      }
      if (chunk) this.push(chunk);
      if (i >= n) this.push(null);
    },
  });
}

interface Sample {
  rows: number;
  stageMs: number;
  enrolMs: number;
  peakRssMb: number;
  baseRssMb: number;
}

/**
 * CSV import: N rows with 1% bad, streamed in, staged and enrolled in this process (the
 * worker's code path, ImportsProcessor). Rows/s for the whole import beside the staging
 * alone; peak RSS growth at 25k rows beside 100k (flat memory: the file is never held).
 * Checks that every good row was enrolled exactly once.
 */
export async function benchImport(
  ctx: BenchContext,
  rows: number,
): Promise<{ figures: Figure[]; knobs: Record<string, unknown> }> {
  const config = loadConfig({
    NODE_ENV: 'test',
    ROLE: 'api',
    DATABASE_URL: ctx.database.url,
    REDIS_URL: ctx.redisUrl,
    QUEUE_PREFIX: `${ctx.root}-import`,
    APP_SECRET: 'bench-secret-0123456789-0123456789-0123',
    TEMPLATES_DIR: resolve('templates'),
  });
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), {
    logger: false,
  });
  ctx.cleanup.add('close the import app', () => app.close());
  const imports = app.get(ImportsService);
  const processor = app.get(ImportsProcessor);
  const db = ctx.database.db;

  const one = async (n: number, run: string): Promise<Sample> => {
    const clinic = await db
      .insertInto('clinics')
      .values({
        slug: `bench-import-${run}`,
        name: 'Bench Clinic',
        timezone: 'America/New_York',
        sender_name: 'Bench Clinic',
        reply_to: 'desk@bench.example',
        phone: '+12125550199',
        postal_address: '1 Bench St',
        booking_url: 'https://bench.example/book',
        consent_mode: 'attested',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    (globalThis as { gc?: () => void }).gc?.();
    const baseRss = process.memoryUsage().rss;
    let peak = baseRss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const t0 = performance.now();
    const job = await imports.start(clinic.id, csvOf(run, n), {
      dryRun: false,
      startedBy: 'bench',
    });
    const t1 = performance.now();
    const result = await processor.process(job.id);
    const t2 = performance.now();
    clearInterval(sampler);
    const done = await imports.progress(clinic.id, job.id);
    const bad = Math.floor((n + 1) / 100);
    const counted = await sql<{ n: number; people: number }>`
      SELECT count(*)::int AS n, count(DISTINCT subscriber_id)::int AS people
      FROM enrollments WHERE clinic_id = ${clinic.id}`.execute(db);
    const c = counted.rows[0]!;
    if (
      result !== 'completed' ||
      done.enrolled !== n - bad ||
      done.failed !== bad ||
      c.n !== n - bad ||
      c.people !== n - bad
    )
      throw new Error(
        `import of ${n} rows: expected ${n - bad} enrolled once and ${bad} failed, got ` +
          `${JSON.stringify({ result, ...done, enrolments: c.n, people: c.people })}`,
      );
    return {
      rows: n,
      stageMs: t1 - t0,
      enrolMs: t2 - t0,
      peakRssMb: (peak - baseRss) / 1e6,
      baseRssMb: baseRss / 1e6,
    };
  };

  const small = await one(Math.round(rows / 4), 's');
  const large = await one(rows, 'l');
  const rate = (s: Sample, ms: number) => Math.round((s.rows / ms) * 1000);
  ctx.notes.push(
    `import: ${large.rows} rows staged in ${(large.stageMs / 1000).toFixed(1)} s and done in ` +
      `${(large.enrolMs / 1000).toFixed(1)} s; RSS before ${large.baseRssMb.toFixed(0)} MB; ` +
      `every good row enrolled once`,
  );
  return {
    figures: [
      {
        what: `CSV import, ${large.rows} rows (1% bad), whole import`,
        figure: rate(large, large.enrolMs),
        baseline: rate(large, large.stageMs),
        unit: 'rows/s',
        baselineWhat: 'streaming parse + staging alone',
        samples: [rate(large, large.enrolMs)],
        baselineSamples: [rate(large, large.stageMs)],
      },
      {
        what: `CSV import, peak RSS growth at ${large.rows} rows`,
        figure: Math.round(large.peakRssMb),
        baseline: Math.round(small.peakRssMb),
        unit: 'MB',
        baselineWhat: `the same at ${small.rows} rows`,
        samples: [large.peakRssMb],
        baselineSamples: [small.peakRssMb],
      },
    ],
    knobs: { rows, small: small.rows, batch: 'IMPORT_BATCH_SIZE (200)' },
  };
}
