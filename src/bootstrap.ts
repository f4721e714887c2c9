import express from 'express';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { HttpErrorFilter } from './common/http-exception.filter.js';
import { runsApi, type AppConfig } from './config/index.js';
import { mountQueueDashboard } from './admin/queue-dashboard.js';
import { createDb, ensureDatabase, migrate } from './database/index.js';

/** Creates the database if needed and applies pending migrations. */
export async function prepareDatabase(config: AppConfig): Promise<string[]> {
  await ensureDatabase(config.databaseUrl);
  const db = createDb(config.databaseUrl, 1);
  try {
    return await migrate(db as never);
  } finally {
    await db.destroy();
  }
}

/** Body limits, error shape, OpenAPI, logger, shutdown hooks: shared by main and tests. */
export function configureApp(app: INestApplication, config: AppConfig): INestApplication {
  app.useLogger(app.get(Logger));
  app.use(express.json({ limit: '64kb' }));
  app.use(express.urlencoded({ extended: false, limit: '64kb' }));
  app.useGlobalFilters(new HttpErrorFilter());
  if (runsApi(config.role)) mountQueueDashboard(app, config);
  const doc = new DocumentBuilder()
    .setTitle('selfcare-drip')
    .setDescription('Daily self-care tips for upper-back pain, by email or SMS.')
    .setVersion('1')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, doc));
  app.enableShutdownHooks();
  return app;
}
