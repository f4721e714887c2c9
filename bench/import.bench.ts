import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { intFromEnv, median, type BenchContext, type Figure } from './harness.js';
import type { ImportJobSpec, ImportSample } from './import.child.js';

/** Runs one import in a fresh process (import.child.ts) and waits for its figures. */
function importInChild(spec: ImportJobSpec, heapCapMb: number): Promise<ImportSample> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./import.child.js', import.meta.url)), [], {
      execArgv: ['--expose-gc', `--max-old-space-size=${heapCapMb}`],
      env: { ...process.env, BENCH_IMPORT_JOB: JSON.stringify(spec) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let sample: ImportSample | undefined;
    child.on('message', (m) => (sample = m as ImportSample));
    child.once('error', reject);
    child.once('exit', (code) =>
      sample && code === 0
        ? resolve(sample)
        : reject(new Error(`the import child exited with ${code} and no figures`)),
    );
  });
}

/**
 * CSV import: N rows with 1% bad, streamed in, staged and enrolled (the worker's code path,
 * ImportsProcessor), a quarter of N beside N. Each import runs in a process of its own with
 * the same old-space cap (BENCH_IMPORT_HEAP_MB, default 256), so their memory figures start
 * from the same place: peak RSS growth above the process's own level before the import, the
 * live heap (sampled right after a forced GC) and the heap still held after it.
 * Checks that every good row was enrolled exactly once.
 *
 * BENCH_IMPORT_RUNS (default 1) repeats each size (medians reported);
 * BENCH_IMPORT_ROW_BY_ROW=1 enrols a row at a time, as before the batch path (for the
 * before/after figures of docs/imports.md).
 */
export async function benchImport(
  ctx: BenchContext,
  rows: number,
): Promise<{ figures: Figure[]; knobs: Record<string, unknown> }> {
  const runs = intFromEnv('BENCH_IMPORT_RUNS', 1, 1, 9);
  const rowByRow = process.env.BENCH_IMPORT_ROW_BY_ROW === '1';
  const heapCap = intFromEnv('BENCH_IMPORT_HEAP_MB', 256, 64, 8192);
  const db = ctx.database.db;

  const one = async (n: number): Promise<ImportSample> => {
    const run = randomBytes(4).toString('hex');
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
    const s = await importInChild(
      {
        databaseUrl: ctx.database.url,
        redisUrl: ctx.redisUrl,
        queuePrefix: `${ctx.root}-import`,
        clinicId: clinic.id,
        rows: n,
        run,
        rowByRow,
      },
      heapCap,
    );
    const done = await db
      .selectFrom('import_jobs')
      .select(['enrolled', 'failed'])
      .where('id', '=', s.importId)
      .executeTakeFirstOrThrow();
    const bad = Math.floor((n + 1) / 100);
    const counted = await sql<{ n: number; people: number; consents: number }>`
      SELECT count(*)::int AS n, count(DISTINCT subscriber_id)::int AS people,
        (SELECT count(*)::int FROM consent_events WHERE clinic_id = ${clinic.id}) AS consents
      FROM enrollments WHERE clinic_id = ${clinic.id}`.execute(db);
    const c = counted.rows[0]!;
    if (
      s.result !== 'completed' ||
      done.enrolled !== n - bad ||
      done.failed !== bad ||
      c.n !== n - bad ||
      c.people !== n - bad ||
      c.consents !== n - bad
    )
      throw new Error(
        `import of ${n} rows: expected ${n - bad} enrolled once and ${bad} failed, got ` +
          `${JSON.stringify({ result: s.result, ...done, ...c })}`,
      );
    console.log(
      `bench: import ${n} rows: ${Math.round((n / s.enrolMs) * 1000)} rows/s, ` +
        `peak RSS +${s.peakRssGrowthMb.toFixed(0)} MB, peak heap +${s.peakHeapGrowthMb.toFixed(0)} MB, ` +
        `peak live heap +${s.peakLiveHeapGrowthMb.toFixed(1)} MB, retained heap ${s.retainedHeapMb.toFixed(1)} MB`,
    );
    return s;
  };

  const small: ImportSample[] = [];
  const large: ImportSample[] = [];
  for (let r = 0; r < runs; r++) {
    small.push(await one(Math.round(rows / 4)));
    large.push(await one(rows));
  }
  const rate = (s: ImportSample, ms: number) => Math.round((s.rows / ms) * 1000);
  const rates = large.map((s) => rate(s, s.enrolMs));
  const stageRates = large.map((s) => rate(s, s.stageMs));
  const mem = (xs: ImportSample[], k: keyof ImportSample) =>
    xs.map((s) => Math.round(s[k] as number));
  const live = (xs: ImportSample[]) => xs.map((s) => Math.round(s.peakLiveHeapGrowthMb * 10) / 10);
  const path = rowByRow ? ', a row at a time' : '';
  ctx.notes.push(
    `import: ${rows} rows done in ${(median(large.map((s) => s.enrolMs)) / 1000).toFixed(1)} s ` +
      `(median of ${runs}); each size in a fresh process (old space capped at ${heapCap} MB), ` +
      `RSS there before the import ` +
      `${median(large.map((s) => s.baseRssMb)).toFixed(0)} MB; heap held after the import ` +
      `(forced GC): ${median(large.map((s) => s.retainedHeapMb)).toFixed(1)} MB at ${rows} rows, ` +
      `${median(small.map((s) => s.retainedHeapMb)).toFixed(1)} MB at ${small[0]!.rows}; ` +
      `every good row enrolled once`,
  );
  return {
    figures: [
      {
        what: `CSV import, ${rows} rows (1% bad), whole import${path}`,
        figure: median(rates),
        baseline: median(stageRates),
        unit: 'rows/s',
        baselineWhat: 'streaming parse + staging alone',
        samples: rates,
        baselineSamples: stageRates,
      },
      {
        what: `CSV import, peak RSS growth at ${rows} rows${path}`,
        figure: median(mem(large, 'peakRssGrowthMb')),
        baseline: median(mem(small, 'peakRssGrowthMb')),
        unit: 'MB',
        baselineWhat: `the same at ${small[0]!.rows} rows`,
        samples: mem(large, 'peakRssGrowthMb'),
        baselineSamples: mem(small, 'peakRssGrowthMb'),
      },
      {
        what: `CSV import, peak live heap growth at ${rows} rows${path}`,
        figure: median(live(large)),
        baseline: median(live(small)),
        unit: 'MB',
        baselineWhat: `the same at ${small[0]!.rows} rows`,
        samples: live(large),
        baselineSamples: live(small),
        note: 'heap + external right after a forced GC, every 5 s',
      },
    ],
    knobs: {
      rows,
      small: small[0]!.rows,
      runs,
      path: rowByRow ? 'row by row' : 'batch',
      heapCapMb: heapCap,
      batch: 'IMPORT_BATCH_SIZE (200)',
    },
  };
}
