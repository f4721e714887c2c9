import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { configureApp, prepareDatabase } from './bootstrap.js';
import { TemplateError } from './campaigns/index.js';
import { ConfigError, loadConfig, type AppConfig } from './config/index.js';

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  try {
    await prepareDatabase(config);
  } catch (err) {
    console.error(`Cannot prepare the database at DATABASE_URL: ${(err as Error).message}`);
    process.exit(1);
  }
  const app = await NestFactory.create(AppModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  configureApp(app, config);
  await app.listen(config.port);
  console.warn(
    `selfcare-drip (${config.role}) listening on ${config.publicUrl}` +
      (config.smtpUrl ? '' : ` · email outbox: ${config.outboxDir}`) +
      (config.twilio ? '' : ` · SMS outbox: ${config.outboxDir}`),
  );
}

main().catch((err: unknown) => {
  if (err instanceof TemplateError) console.error(`Invalid template: ${err.message}`);
  else console.error(err instanceof Error ? `Start-up failed: ${err.message}` : err);
  process.exit(1);
});
