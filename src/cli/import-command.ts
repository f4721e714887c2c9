import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module.js';
import { prepareDatabase } from '../bootstrap.js';
import { loadCampaigns } from '../campaigns/index.js';
import {
  ClinicsRepository,
  ImportsProcessor,
  ImportsService,
  type ImportView,
} from '../clinics/index.js';
import { DomainError, isUuid } from '../common/index.js';
import { loadConfig } from '../config/index.js';

/** A one-line bar on stderr: redrawn in place on a terminal, a line per 10 % otherwise. */
class ProgressBar {
  private lastTenth = -1;
  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}

  draw(label: string, done: number, total: number, extra = ''): void {
    const ratio = total > 0 ? Math.min(done / total, 1) : 0;
    if (this.out.isTTY) {
      const width = 30;
      const filled = Math.round(ratio * width);
      this.out.write(
        `\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}% ${extra}\x1b[K`,
      );
    } else {
      const tenth = Math.floor(ratio * 10);
      if (tenth !== this.lastTenth) {
        this.lastTenth = tenth;
        this.out.write(`${label} ${tenth * 10}% ${extra}\n`);
      }
    }
  }

  end(): void {
    if (this.out.isTTY) this.out.write('\n');
    this.lastTenth = -1;
  }
}

/**
 * `import file.csv --clinic <slug or id> [--dry-run] [--campaign id]`: stages the file and
 * runs the import in this process (or follows it when a worker took it), with a progress bar
 * on stderr and a summary on stdout. Failed rows go to file.errors.csv. Exit code 1 when the
 * file is refused.
 */
export async function importCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      clinic: { type: 'string' },
      'dry-run': { type: 'boolean' },
      campaign: { type: 'string' },
    },
  });
  const [file] = positionals;
  if (!file || !values.clinic) {
    console.error('import needs <file.csv> and --clinic <slug or id>');
    return 2;
  }
  const size = statSync(file).size;
  const config = { ...loadConfig(), role: 'api' as const };
  await prepareDatabase(config, loadCampaigns(config.templatesDir));
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), {
    logger: ['error', 'warn'],
  });
  const bar = new ProgressBar();
  try {
    const clinics = app.get(ClinicsRepository);
    const clinic = isUuid(values.clinic)
      ? await clinics.find(values.clinic)
      : await clinics.findBySlug(values.clinic);
    if (!clinic) {
      console.error(`no clinic with the slug or id "${values.clinic}"`);
      return 2;
    }
    const imports = app.get(ImportsService);
    let read = 0;
    // Counts bytes as the service reads them (a 'data' listener would start the flow early).
    const counted = createReadStream(file).pipe(
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          read += chunk.length;
          bar.draw('reading  ', read, size, `${(read / 1e6).toFixed(1)} MB`);
          done(null, chunk);
        },
      }),
    );
    let job: ImportView;
    try {
      job = await imports.start(clinic.id, counted, {
        dryRun: values['dry-run'] ?? false,
        filename: basename(file),
        campaign: values.campaign,
        startedBy: 'cli',
      });
    } catch (err) {
      bar.end();
      if (err instanceof DomainError) {
        console.error(`refused: ${err.message}`);
        return 1;
      }
      throw err;
    }
    bar.end();
    // Run it here; if a worker already has it, follow its progress instead.
    const running = app.get(ImportsProcessor).process(job.id);
    for (;;) {
      job = await imports.progress(clinic.id, job.id);
      bar.draw(
        values['dry-run'] ? 'checking ' : 'enrolling',
        job.processed,
        job.totalRows,
        `${job.processed}/${job.totalRows} rows · ${job.enrolled} enrolled · ${job.invited} invited · ${job.failed} failed`,
      );
      if (['completed', 'failed', 'rejected'].includes(job.status)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await running;
    bar.end();
    console.log(
      `${job.dryRun ? 'Dry run (nobody enrolled)' : 'Import'} ${job.id} ${job.status}: ` +
        `${job.totalRows} rows, ${job.enrolled} enrolled, ${job.invited} invited, ${job.failed} failed`,
    );
    if (job.failed > 0) {
      const out = file.replace(/\.csv$/i, '') + '.errors.csv';
      await pipeline(await imports.errorsCsv(clinic.id, job.id), createWriteStream(out));
      console.log(`rows that failed, with the reason: ${out}`);
    }
    return job.status === 'completed' ? 0 : 1;
  } finally {
    await app.close();
  }
}
