/**
 * One CSV import in a process of its own (started by import.bench.ts with --expose-gc), so
 * that the memory figures of two file sizes start from the same place and can be compared.
 * Reads its job from BENCH_IMPORT_JOB (JSON), answers over IPC with an ImportSample.
 */
import 'reflect-metadata';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../src/app.module.js';
import { ImportsProcessor, ImportsService } from '../src/clinics/index.js';
import { loadConfig } from '../src/config/index.js';

export interface ImportJobSpec {
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  clinicId: string;
  rows: number;
  run: string;
  rowByRow: boolean;
}

export interface ImportSample {
  rows: number;
  result: string;
  importId: string;
  stageMs: number;
  enrolMs: number;
  /** After start-up and a forced GC, before the import. */
  baseRssMb: number;
  /** Highest RSS and heap (used + external) seen while importing, above the base. */
  peakRssGrowthMb: number;
  peakHeapGrowthMb: number;
  /** The highest heap (used + external) right after a forced GC, every 5 s, above the base. */
  peakLiveHeapGrowthMb: number;
  /** Heap still in use after the import and a forced GC, above the base. */
  retainedHeapMb: number;
}

const HEADER =
  'name,email,channel,timezone,sendTime,externalId,consentMethod,consentObtainedAt,consentCollectedBy\n';

/** A CSV of `n` rows made as it is read (never held whole), every 100th row bad. */
export function csvOf(run: string, n: number): Readable {
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

const MB = 1e6;
const LIVE_EVERY_MS = 5000;

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.BENCH_IMPORT_JOB ?? '') as ImportJobSpec;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const config = loadConfig({
    NODE_ENV: 'test',
    ROLE: 'api',
    DATABASE_URL: spec.databaseUrl,
    REDIS_URL: spec.redisUrl,
    QUEUE_PREFIX: spec.queuePrefix,
    APP_SECRET: 'bench-secret-0123456789-0123456789-0123',
    TEMPLATES_DIR: resolve('templates'),
  });
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), {
    logger: false,
  });
  try {
    const imports = app.get(ImportsService);
    const processor = app.get(ImportsProcessor);
    processor.rowByRow = spec.rowByRow;
    gc();
    gc();
    const heap = () => {
      const m = process.memoryUsage();
      return { rss: m.rss, heap: m.heapUsed + m.external };
    };
    const base = heap();
    let peakRss = base.rss;
    let peakHeap = base.heap;
    const sampler = setInterval(() => {
      const m = heap();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heap);
    }, 20);
    // The live heap: V8 leaves garbage until its old space fills, so the raw peak says more
    // about the GC's timing than about what the import holds. A forced GC every few seconds
    // shows what is really held while the import runs.
    let peakLive = base.heap;
    const live = setInterval(() => {
      gc();
      peakLive = Math.max(peakLive, heap().heap);
    }, LIVE_EVERY_MS);
    const t0 = performance.now();
    const job = await imports.start(spec.clinicId, csvOf(spec.run, spec.rows), {
      dryRun: false,
      startedBy: 'bench',
    });
    const t1 = performance.now();
    const result = await processor.process(job.id);
    const t2 = performance.now();
    clearInterval(sampler);
    clearInterval(live);
    gc();
    gc();
    const after = heap();
    const sample: ImportSample = {
      rows: spec.rows,
      result,
      importId: job.id,
      stageMs: t1 - t0,
      enrolMs: t2 - t0,
      baseRssMb: base.rss / MB,
      peakRssGrowthMb: (peakRss - base.rss) / MB,
      peakHeapGrowthMb: (peakHeap - base.heap) / MB,
      peakLiveHeapGrowthMb: (peakLive - base.heap) / MB,
      retainedHeapMb: (after.heap - base.heap) / MB,
    };
    process.send!(sample);
  } finally {
    await app.close();
  }
}

main().then(
  () => process.disconnect?.(),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
