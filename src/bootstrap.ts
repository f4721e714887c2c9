import express from 'express';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import {
  addSecuritySchemes,
  ErrorBody,
  FieldErrorBody,
  HttpErrorFilter,
  type ErrorPages,
} from './common/index.js';
import { runsApi, type AppConfig } from './config/index.js';
import { mountQueueDashboard } from './admin/index.js';
import { strandedBy, type Campaign } from './campaigns/index.js';
import { createDb, ensureDatabase, migrate, type Db } from './database/index.js';
import { stepsInUse } from './enrollments/index.js';
import { PagesService } from './signup/index.js';

/**
 * Creates the database if needed and applies pending migrations. Given the campaigns about
 * to run, it then refuses them (a TemplateError) if they would strand live enrolments: a
 * step someone waits on, or a campaign someone is in, is gone.
 */
export async function prepareDatabase(
  config: AppConfig,
  campaigns?: Campaign[],
): Promise<string[]> {
  await ensureDatabase(config.databaseUrl);
  // No statement limit: a migration may rightly take long, or wait for another instance's.
  const db = createDb(config.databaseUrl, 1, { statementMs: 0, queryMs: 0 });
  try {
    const applied = await migrate(db as never);
    if (campaigns) await checkStepsInUse(db, campaigns);
    return applied;
  } finally {
    await db.destroy();
  }
}

/** Throws a one-line TemplateError when the campaigns would strand live enrolments. */
export async function checkStepsInUse(db: Db, campaigns: Campaign[]): Promise<void> {
  const stranded = strandedBy(campaigns, await stepsInUse(db));
  if (stranded) throw stranded;
}

/**
 * Body limits, error shape, OpenAPI, logger: shared by main and tests. Signals are main's
 * business (see main.ts): tests close their apps themselves.
 */
export function configureApp(app: INestApplication, config: AppConfig): INestApplication {
  app.useLogger(app.get(Logger));
  // Off unless TRUST_PROXY says which proxies' X-Forwarded-For to believe: req.ip (the rate
  // limit's key, and the address in consent evidence) is then the visitor's, not the proxy's.
  (app.getHttpAdapter().getInstance() as { set(k: string, v: unknown): void }).set(
    'trust proxy',
    config.trustProxy,
  );
  app.use(express.json({ limit: '64kb' }));
  app.use(express.urlencoded({ extended: false, limit: '64kb' }));
  app.useGlobalFilters(new HttpErrorFilter(runsApi(config.role) ? pagesOf(app) : undefined));
  if (runsApi(config.role)) mountQueueDashboard(app, config);
  SwaggerModule.setup('docs', app, () => createOpenApiDocument(app));
  return app;
}

/** The OpenAPI document that /docs and /docs-json serve, generated from the controllers. */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = addSecuritySchemes(
    new DocumentBuilder()
      .setTitle('selfcare-drip')
      .setDescription(
        'Daily self-care tips for upper-back pain, by email or SMS. Every error answers JSON ' +
          '`{statusCode, error, message}`, with `errors: [{field, message}]` for bad input.',
      )
      .setVersion('1'),
  ).build();
  return SwaggerModule.createDocument(app, config, { extraModels: [ErrorBody, FieldErrorBody] });
}

/** The site's own page layout for errors shown to browsers (503 during an outage). */
function pagesOf(app: INestApplication): ErrorPages | undefined {
  try {
    const pages = app.get(PagesService, { strict: false });
    return { message: (title, paragraphs) => pages.message(title, paragraphs) };
  } catch {
    return undefined;
  }
}
